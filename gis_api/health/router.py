"""GET /health: the API is up and the database answers with PostGIS enabled."""

from fastapi import APIRouter
from sqlalchemy import text

from gis_api.db.session import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep) -> dict[str, str]:
    """Report the database and PostGIS versions; 503 (via the error table) when the DB is away."""
    postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"status": "ok", "postgis": str(postgis)}

"""GET /health: the API is up, the database answers with PostGIS enabled, and what an operator must
act on soon (the working calendar running out)."""

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from gis_api.cases.calendar import default_calendar
from gis_api.db.session import SessionDep

router = APIRouter(tags=["health"])


class CalendarHealth(BaseModel):
    """The working calendar's coverage; `warning` from 60 days before its last covered day."""

    version: str
    years: list[int]
    covered_until: date | None
    days_left: int
    warning: bool
    message: str


class Health(BaseModel):
    status: str
    postgis: str
    calendar: CalendarHealth
    warnings: list[str]
    """One line per thing an operator must act on; empty when all is well."""


@router.get("/health")
def health(session: SessionDep) -> Health:
    """Report PostGIS and the calendar's coverage; 503 (via the error table) when the DB is away."""
    postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    calendar = default_calendar()
    status = calendar.status(datetime.now(calendar.zone).date())
    warnings = [status.message()] if status.warning else []
    return Health(
        status="ok",
        postgis=str(postgis),
        calendar=CalendarHealth.model_validate(status.as_json()),
        warnings=warnings,
    )

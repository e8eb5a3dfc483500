"""GET /layers/streets|communities|grids: boundary layers of the caller's districts."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from gis_api.areas.schemas import LayerCollection, LayerQuery
from gis_api.areas.service import communities_geojson, grids_geojson, streets_geojson
from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.scope import Principal
from gis_api.db.session import SessionDep

router = APIRouter(prefix="/layers", tags=["layers"])
GEOJSON = "application/geo+json"
LAYER_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": LayerCollection, "content": {GEOJSON: {}}}
}
LayerBuilder = Callable[[Session, LayerQuery, str], str]


def _respond(user: Principal, session: Session, query: LayerQuery, build: LayerBuilder) -> Response:
    return Response(content=build(session, query, user.district_prefix), media_type=GEOJSON)


@router.get("/streets", responses=LAYER_RESPONSES, response_class=Response)
def streets(session: SessionDep, user: CurrentUser, query: Annotated[LayerQuery, Query()]) -> Response:
    """Streets (街道) with household and community counts under the plan."""
    return _respond(user, session, query, streets_geojson)


@router.get("/communities", responses=LAYER_RESPONSES, response_class=Response)
def communities(session: SessionDep, user: CurrentUser, query: Annotated[LayerQuery, Query()]) -> Response:
    """Communities (社区) of the plan with household and grid counts."""
    return _respond(user, session, query, communities_geojson)


@router.get("/grids", responses=LAYER_RESPONSES, response_class=Response)
def grids(session: SessionDep, user: CurrentUser, query: Annotated[LayerQuery, Query()]) -> Response:
    """Grids (网格) of the plan with household counts."""
    return _respond(user, session, query, grids_geojson)

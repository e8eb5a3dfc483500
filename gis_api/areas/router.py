"""GET /layers/streets|communities|grids: boundary layers for any authenticated user."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from gis_api.areas.schemas import LayerCollection, LayerQuery
from gis_api.areas.service import communities_geojson, grids_geojson, metric_srid, streets_geojson
from gis_api.auth.dependencies import CurrentUser
from gis_api.db.session import SessionDep

router = APIRouter(prefix="/layers", tags=["layers"])
GEOJSON = "application/geo+json"
LAYER_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": LayerCollection, "content": {GEOJSON: {}}}
}
LayerBuilder = Callable[[Session, LayerQuery, int], str]


def _respond(request: Request, session: Session, query: LayerQuery, build: LayerBuilder) -> Response:
    srid = metric_srid(request.app.state.settings.metric_crs)
    return Response(content=build(session, query, srid), media_type=GEOJSON)


@router.get("/streets", responses=LAYER_RESPONSES, response_class=Response)
def streets(
    request: Request, session: SessionDep, user: CurrentUser, query: Annotated[LayerQuery, Query()]
) -> Response:
    """Streets (街道) with household and community counts under the plan."""
    return _respond(request, session, query, streets_geojson)


@router.get("/communities", responses=LAYER_RESPONSES, response_class=Response)
def communities(
    request: Request, session: SessionDep, user: CurrentUser, query: Annotated[LayerQuery, Query()]
) -> Response:
    """Communities (社区) of the plan with household and grid counts."""
    return _respond(request, session, query, communities_geojson)


@router.get("/grids", responses=LAYER_RESPONSES, response_class=Response)
def grids(
    request: Request, session: SessionDep, user: CurrentUser, query: Annotated[LayerQuery, Query()]
) -> Response:
    """Grids (网格) of the plan with household counts."""
    return _respond(request, session, query, grids_geojson)

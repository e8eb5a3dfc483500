"""The road route from a worker's position to a case, over the in-memory road graph."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_api.auth.scope import DISTRICT_CODE_LENGTH
from gis_api.cases.models import Case
from gis_api.cases.reads import visible_case
from gis_api.cases.service import Actor, Position
from gis_api.errors import ServiceUnavailableError
from gis_api.routing.engine import GraphLookup, RoadGraph


def case_route(
    session: Session, actor: Actor, case_id: int, start: Position, graph: RoadGraph | GraphLookup
) -> dict[str, Any]:
    """A GeoJSON Feature (LineString) from `start` to the visible case over the road graph of the
    case's district, with eta_s and length_m."""
    case = visible_case(session, actor, case_id)
    if not isinstance(graph, RoadGraph):
        graph = graph(case.grid_code[:DISTRICT_CODE_LENGTH])
    if graph.is_empty:
        raise ServiceUnavailableError("no road network is loaded; routes are unavailable")
    lon, lat = session.execute(
        select(func.ST_X(Case.geom), func.ST_Y(Case.geom)).where(Case.id == case.id)
    ).one()
    route = graph.search_to((float(lon), float(lat))).route_from((start.lon, start.lat))
    return {
        "type": "Feature",
        "geometry": route.geometry,
        "properties": {
            "case_id": case.id,
            "eta_s": round(route.eta_s, 1),
            "length_m": round(route.length_m, 1),
            "edge_ids": route.edge_ids,
            "from": [start.lon, start.lat],
            "to": [float(lon), float(lat)],
        },
    }

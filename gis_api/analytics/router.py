"""GET /analytics/heatmap (hexagon bins) and GET /analytics/trends (hourly and daily series)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gis_api.analytics.schemas import Heatmap, Trends
from gis_api.analytics.service import heatmap, trends
from gis_api.auth.dependencies import CurrentUser
from gis_api.db.session import SessionDep
from gis_api.inputs import Text

router = APIRouter(prefix="/analytics", tags=["analytics"])

Area = Annotated[Text | None, Query(max_length=20, description="district, street, community or grid code")]


@router.get("/heatmap")
def case_heatmap(
    session: SessionDep,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=366, description="cases reported in the last N days")] = 7,
    cell_m: Annotated[float, Query(ge=50, le=5000, description="hexagon width in metres")] = 250,
    area: Area = None,
) -> Heatmap:
    """Cases of the caller's area counted per hexagon in SQL (the page draws the bins, not the cases),
    laid out in the metric CRS of each case's district."""
    return heatmap(session, user, days, cell_m, area)


@router.get("/trends")
def case_trends(
    session: SessionDep,
    user: CurrentUser,
    hours: Annotated[int, Query(ge=1, le=168)] = 24,
    days: Annotated[int, Query(ge=1, le=92)] = 14,
    area: Area = None,
) -> Trends:
    """Reported and closed cases per hour and per day (Beijing time), with the daily closure rate."""
    return trends(session, user, hours, days, area)

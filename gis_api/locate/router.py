"""GET /locate and POST /locate/batch for authenticated callers."""

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request

from gis_api.auth.dependencies import CurrentUser
from gis_api.db.session import SessionDep
from gis_api.locate.index import LocateIndexCache
from gis_api.locate.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    LocateQuery,
    LocateResponse,
    Placement,
)
from gis_api.locate.service import locate, locate_one

router = APIRouter(prefix="/locate", tags=["locate"])


def _cache(request: Request) -> LocateIndexCache:
    cache: LocateIndexCache = request.app.state.locate_index
    return cache


@router.get("")
def locate_point(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    query: Annotated[LocateQuery, Query()],
) -> LocateResponse:
    """Street, community and grid of the active plan at lon/lat; 422 outside the caller's districts."""
    prefix = user.district_prefix
    located, area = locate_one(session, _cache(request), query.lon, query.lat, query.crs, prefix)
    return LocateResponse(
        **Placement.of(area).model_dump(),
        lon=query.lon,
        lat=query.lat,
        crs=query.crs,
        wgs84_lon=round(float(located.lons[0]), 7),
        wgs84_lat=round(float(located.lats[0]), 7),
        plan_id=area.plan_id,
        method=located.method,
    )


@router.post("/batch")
def locate_batch(
    request: Request, session: SessionDep, user: CurrentUser, body: BatchRequest
) -> BatchResponse:
    """Locate many points at once; points outside every grid get an error text, not a 422."""
    lons = np.array([point.lon for point in body.points])
    lats = np.array([point.lat for point in body.points])
    prefix = user.district_prefix
    located = locate(session, _cache(request), lons, lats, body.crs).within(prefix)
    items = [
        BatchItem(
            index=i,
            wgs84_lon=round(float(located.lons[i]), 7),
            wgs84_lat=round(float(located.lats[i]), 7),
            placement=Placement.of(area) if area is not None else None,
            error=None if area is not None else located.reason(i, prefix),
        )
        for i, area in enumerate(located.areas)
    ]
    located_count = sum(area is not None for area in located.areas)
    return BatchResponse(
        plan_ids=located.plan_ids, method=located.method, located=located_count, results=items
    )

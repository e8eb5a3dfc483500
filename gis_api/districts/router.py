"""GET /districts: the districts in the caller's scope, with their metric CRS and data provenance."""

from __future__ import annotations

from fastapi import APIRouter

from gis_api.auth.dependencies import CurrentUser
from gis_api.db.session import SessionDep
from gis_api.districts import models as _models  # noqa: F401  (registers city, data_layer)
from gis_api.districts.reads import districts_out
from gis_api.districts.schemas import DistrictOut

router = APIRouter(prefix="/districts", tags=["districts"])


@router.get("")
def districts(session: SessionDep, user: CurrentUser) -> list[DistrictOut]:
    """Every district the caller's scope touches (a city scope: all of its districts)."""
    return districts_out(session, user.district_prefix)

"""Request and response shapes of /locate and /locate/batch."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gis_api.locate.areas import GridArea
from gis_api.locate.service import Crs

MAX_BATCH = 10_000
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


def _crs_name(value: Any) -> Any:
    """Accept 'WGS84', ' gcj02 ' and the like; anything else is left for the enum to reject."""
    return value.strip().lower() if isinstance(value, str) else value


class LocateQuery(BaseModel):
    """GET /locate parameters."""

    model_config = ConfigDict(extra="forbid")

    lon: Longitude = Field(description="longitude in degrees")
    lat: Latitude = Field(description="latitude in degrees")
    crs: Crs = Field(Crs.WGS84, description="datum of lon/lat: wgs84, gcj02 (Amap) or bd09 (Baidu)")

    _normalise_crs = field_validator("crs", mode="before")(_crs_name)


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: Longitude
    lat: Latitude


class BatchRequest(BaseModel):
    """POST /locate/batch body: up to 10,000 points in one datum."""

    model_config = ConfigDict(extra="forbid")

    crs: Crs = Crs.WGS84
    points: list[PointIn] = Field(min_length=1, max_length=MAX_BATCH)

    _normalise_crs = field_validator("crs", mode="before")(_crs_name)


class AreaRef(BaseModel):
    code: str
    name: str


class Placement(BaseModel):
    """The street, community and grid a point lies in."""

    street: AreaRef
    community: AreaRef
    grid: AreaRef

    @classmethod
    def of(cls, area: GridArea) -> Placement:
        return cls(
            street=AreaRef(code=area.street_code, name=area.street_name),
            community=AreaRef(code=area.community_code, name=area.community_name),
            grid=AreaRef(code=area.grid_code, name=area.grid_name),
        )


class LocateResponse(Placement):
    lon: float
    lat: float
    crs: Crs
    wgs84_lon: float
    wgs84_lat: float
    plan_id: int
    method: str = Field(description="'memory' (STRtree index) or 'sql' (PostGIS fallback)")


class BatchItem(BaseModel):
    """One point of a batch: its placement, or why it has none."""

    index: int
    wgs84_lon: float
    wgs84_lat: float
    placement: Placement | None
    error: str | None


class BatchResponse(BaseModel):
    plan_ids: list[int] = Field(description="the active plans (one per district) the points fell in")
    method: str
    located: int
    results: list[BatchItem]

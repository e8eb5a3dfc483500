"""Query parameters and page shape of GET /households."""

from pydantic import BaseModel, ConfigDict, Field

from gis_api.areas.schemas import BBox, BBoxText, parse_bbox
from gis_api.locate.service import Crs

MAX_LIMIT = 5000


class HouseholdQuery(BaseModel):
    """A page of households: optional bbox, keyset (after_id) or offset paging, at most 5000."""

    model_config = ConfigDict(extra="forbid")

    bbox: BBoxText = Field(None, description="minlon,minlat,maxlon,maxlat (WGS84)")
    limit: int = Field(1000, ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")
    after_id: int = Field(0, ge=0, le=2**63 - 1, description="keyset paging: households with id > after_id")
    offset: int = Field(0, ge=0, le=1_000_000, description="rows to skip (prefer after_id)")

    @property
    def parsed_bbox(self) -> BBox | None:
        return parse_bbox(self.bbox) if self.bbox is not None else None

    def describe(self) -> str:
        """The request as written to the audit log."""
        return f"bbox={self.bbox or '-'} after_id={self.after_id} offset={self.offset} limit={self.limit}"


class HouseholdPage(BaseModel):
    """A GeoJSON FeatureCollection page; `next` is the URL of the following page or null."""

    type: str = "FeatureCollection"
    features: list[dict[str, object]]
    count: int
    limit: int
    scope_code: str
    next: str | None


class NearbyQuery(BaseModel):
    """GET /households/nearby: households around the caller's position, for picking one to visit."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    crs: Crs = Crs.WGS84
    radius_m: float = Field(150, gt=0, le=500, allow_inf_nan=False, description="search radius, metres")
    limit: int = Field(30, ge=1, le=100)

    def describe(self) -> str:
        """The request as written to the audit log (the position rounded to ~10 m)."""
        return f"near {self.lon:.4f},{self.lat:.4f} {self.crs.value} r={self.radius_m:g} limit={self.limit}"


class NearbyHousehold(BaseModel):
    """What a worker needs to pick the door: the household number, building, 门牌 and distance."""

    id: int
    building_id: int | None
    door_label: str | None
    distance_m: float


class NearbyPage(BaseModel):
    items: list[NearbyHousehold]
    count: int
    radius_m: float

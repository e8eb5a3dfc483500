"""Query parameters and page shape of GET /households."""

from pydantic import BaseModel, ConfigDict, Field

from gis_api.areas.schemas import BBox, BBoxText, parse_bbox

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

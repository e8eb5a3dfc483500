"""Query parameters of the boundary layers and the shape of their GeoJSON properties."""

from __future__ import annotations

import math
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gis_api.inputs import ASCII_DECIMAL

BBOX_FORMAT = "bbox must be 'minlon,minlat,maxlon,maxlat' in WGS84 degrees"


class BBox(NamedTuple):
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def parse_bbox(text: str) -> BBox:
    """Parse and check 'minlon,minlat,maxlon,maxlat'; ValueError says what is wrong."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(f"{BBOX_FORMAT}, got {len(parts)} value(s)")
    if not all(ASCII_DECIMAL.fullmatch(part.strip()) for part in parts):
        raise ValueError(f"{BBOX_FORMAT} in ASCII digits, got {text[:80]!r}")
    values = [float(part) for part in parts]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{BBOX_FORMAT}, got a non-finite number")
    bbox = BBox(*values)
    if not (-180 <= bbox.min_lon < bbox.max_lon <= 180 and -90 <= bbox.min_lat < bbox.max_lat <= 90):
        raise ValueError(f"{BBOX_FORMAT} with min < max and lon/lat within range, got {text!r}")
    return bbox


def _checked_bbox(text: str | None) -> str | None:
    if text is not None:
        parse_bbox(text)
    return text


BBoxText = Annotated[str | None, AfterValidator(_checked_bbox)]


class LayerQuery(BaseModel):
    """Filters shared by /layers/streets, /layers/communities and /layers/grids."""

    model_config = ConfigDict(extra="forbid")

    plan_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="plan to show; default: the active plan of each district"
    )
    bbox: BBoxText = Field(None, description="minlon,minlat,maxlon,maxlat (WGS84)")
    street: str | None = Field(None, pattern=r"^[0-9]{9}$", description="9-digit street code")
    community: str | None = Field(None, pattern=r"^[0-9]{12}$", description="12-digit community code")
    simplify: float | None = Field(
        None, ge=0, le=500, allow_inf_nan=False, description="simplification tolerance in metres"
    )

    @property
    def parsed_bbox(self) -> BBox | None:
        return parse_bbox(self.bbox) if self.bbox is not None else None


class AreaProperties(BaseModel):
    """Properties of every boundary feature (documentation of the GeoJSON returned)."""

    code: str
    name: str
    parent_code: str
    households: int
    children: int = Field(description="communities of a street, grids of a community, 0 for a grid")


class LayerCollection(BaseModel):
    """A GeoJSON FeatureCollection of one layer (documentation of the response)."""

    type: str = "FeatureCollection"
    layer: str
    plan_ids: list[int] = Field(
        description="the plans drawn: the active plan of each district, or the one asked"
    )
    households_source: str = Field(
        description="'live' (counted from household rows, active plan) or 'stored' (plan's own figures)"
    )
    features: list[dict[str, object]]

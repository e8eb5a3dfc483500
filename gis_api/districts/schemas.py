"""Response bodies of GET /districts (and the districts part of GET /auth/me)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DataLayerOut(BaseModel):
    """One loaded layer of a district and whether it is real or synthetic."""

    layer: str
    synthetic: bool
    source: str
    licence: str
    loaded_at: datetime


class DistrictRef(BaseModel):
    """A district as the pages name it, with the flag behind the "demo data" notice."""

    code: str
    name: str
    city_code: str
    city_name: str
    demo_data: bool = Field(description="its streets, communities or households are synthetic")


class DistrictOut(DistrictRef):
    """A district in the caller's scope: metric CRS, extent and the provenance of every layer."""

    metric_crs: str
    metric_crs_family: str
    bbox: list[float] = Field(description="minlon, minlat, maxlon, maxlat (WGS84)")
    layers: list[DataLayerOut]

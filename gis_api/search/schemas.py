"""GET /search results: what was found, where to fly the map."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

HitKind = Literal["case", "street", "community", "grid", "road", "building"]


class SearchHit(BaseModel):
    """One result: its kind, key (case id, area code, road name, building id), label and extent."""

    kind: HitKind
    key: str
    label: str
    detail: str
    lon: float
    lat: float
    bbox: list[float] | None
    """[min lon, min lat, max lon, max lat]; None for a point (a case)."""


class SearchPage(BaseModel):
    query: str
    items: list[SearchHit]

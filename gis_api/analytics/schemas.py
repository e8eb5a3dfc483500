"""Bodies of /analytics: hexagon bins and trend series."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class HexBin(BaseModel):
    """One hexagon (its ring in lon/lat, first point repeated) and how many cases fell in it."""

    count: int
    lon: float
    lat: float
    ring: list[list[float]]
    metric_crs: str
    """The CRS the hexagon was laid out in: the metric CRS of its cases' district (e.g. EPSG:32650)."""


class Heatmap(BaseModel):
    since: datetime
    days: int
    cell_m: float
    total: int
    max_count: int
    bins: list[HexBin]


class HourPoint(BaseModel):
    hour: datetime
    reported: int
    closed: int


class DayPoint(BaseModel):
    day: date
    reported: int
    closed: int
    closure_rate: float | None
    """Share of the cases reported that day that are closed by now (结案率 by report day)."""


class Trends(BaseModel):
    timezone: str
    hourly: list[HourPoint]
    daily: list[DayPoint]

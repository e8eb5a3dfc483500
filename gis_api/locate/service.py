"""Locate points given in WGS84, GCJ-02 or BD-09: memory index first, SQL when it is not ready.

Lookups cover every active grid of every district; callers see only what lies in their own
districts (a city scope: all of its districts), the rest is reported as outside their area.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from gis_api.errors import NotFoundError, OutOfDistrictError
from gis_api.loaders.chinese_datums import to_wgs84
from gis_api.locate.areas import GridArea
from gis_api.locate.index import NO_GRID, LocateIndexCache
from gis_api.locate.sql_lookup import districts_at_sql, locate_batch_sql
from gis_api.plans.active import active_plan_ids

NO_ACTIVE_PLAN = "there is no active plan to locate against; load the demo or activate a plan"


class Crs(enum.StrEnum):
    """Coordinate systems a caller may use; phones in China commonly report GCJ-02."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True)
class Located:
    """Where a batch of points fell: WGS84 coordinates, the grid (or None) and the district."""

    method: str
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    areas: list[GridArea | None]
    districts: list[str | None]

    @property
    def plan_ids(self) -> list[int]:
        return sorted({area.plan_id for area in self.areas if area is not None})

    def within(self, prefix: str) -> Located:
        """The same points with every grid outside the districts under `prefix` dropped."""
        kept = [
            area if area is not None and area.grid_code.startswith(prefix) else None for area in self.areas
        ]
        return Located(self.method, self.lons, self.lats, kept, self.districts)

    def reason(self, position: int, prefix: str) -> str:
        """Why point `position` has no grid (for a caller working in the districts under `prefix`)."""
        lon, lat = self.lons[position], self.lats[position]
        where = f"point ({lon:.6f}, {lat:.6f}) in WGS84"
        district = self.districts[position]
        if district is None:
            return f"{where} is outside every loaded district"
        if not district.startswith(prefix):
            return f"{where} lies in district {district}, outside your area ({prefix})"
        return f"{where} is inside district {district} but in no grid of its active plan"


def locate(
    session: Session,
    cache: LocateIndexCache,
    lons: NDArray[np.float64],
    lats: NDArray[np.float64],
    crs: Crs,
) -> Located:
    """Convert to WGS84 and find each point's grid, community and street among the active plans."""
    wgs_lons, wgs_lats = to_wgs84(crs.value, lons, lats)
    index = cache.current(session)
    if index is not None:
        positions = index.lookup(wgs_lons, wgs_lats)
        areas = [index.areas[p] if p != NO_GRID else None for p in positions.tolist()]
        return Located("memory", wgs_lons, wgs_lats, areas, index.districts_at(wgs_lons, wgs_lats))
    if not active_plan_ids(session):
        raise NotFoundError(NO_ACTIVE_PLAN)
    areas = locate_batch_sql(session, wgs_lons.tolist(), wgs_lats.tolist())
    return Located(
        "sql", wgs_lons, wgs_lats, areas, districts_at_sql(session, wgs_lons.tolist(), wgs_lats.tolist())
    )


def locate_one(
    session: Session, cache: LocateIndexCache, lon: float, lat: float, crs: Crs, prefix: str
) -> tuple[Located, GridArea]:
    """Locate a single point for a caller working under `prefix`; OutOfDistrictError (422) when no
    grid of theirs holds it."""
    located = locate(session, cache, np.array([lon]), np.array([lat]), crs).within(prefix)
    area = located.areas[0]
    if area is None:
        raise OutOfDistrictError(located.reason(0, prefix))
    return located, area

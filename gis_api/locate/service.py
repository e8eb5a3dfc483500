"""Locate points given in WGS84, GCJ-02 or BD-09: memory index first, SQL when it is not ready."""

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
from gis_api.locate.sql_lookup import active_plan_id, in_district_sql, locate_batch_sql

NO_ACTIVE_PLAN = "there is no active plan to locate against; load the demo or activate a plan"


class Crs(enum.StrEnum):
    """Coordinate systems a caller may use; phones in China commonly report GCJ-02."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True)
class Located:
    """Where a batch of points fell: WGS84 coordinates, the grid (or None) and district test."""

    plan_id: int
    method: str
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    areas: list[GridArea | None]
    in_district: list[bool]

    def reason(self, position: int, district_code: str) -> str:
        """Why point `position` has no grid, phrased for the caller."""
        lon, lat = self.lons[position], self.lats[position]
        where = f"point ({lon:.6f}, {lat:.6f}) in WGS84"
        if not self.in_district[position]:
            return f"{where} is outside district {district_code}"
        return f"{where} is inside district {district_code} but in no grid of the active plan"


def locate(
    session: Session,
    cache: LocateIndexCache,
    lons: NDArray[np.float64],
    lats: NDArray[np.float64],
    crs: Crs,
) -> Located:
    """Convert to WGS84 and find each point's grid, community and street in the active plan."""
    wgs_lons, wgs_lats = to_wgs84(crs.value, lons, lats)
    index = cache.current(session)
    if index is not None:
        positions = index.lookup(wgs_lons, wgs_lats)
        areas = [index.areas[p] if p != NO_GRID else None for p in positions.tolist()]
        return Located(
            index.plan_id, "memory", wgs_lons, wgs_lats, areas, index.in_district(wgs_lons, wgs_lats).tolist()
        )
    plan_id = active_plan_id(session)
    if plan_id is None:
        raise NotFoundError(NO_ACTIVE_PLAN)
    areas = locate_batch_sql(session, plan_id, wgs_lons.tolist(), wgs_lats.tolist())
    missing = [i for i, area in enumerate(areas) if area is None]
    inside = [True] * len(areas)
    if missing:
        flags = in_district_sql(session, wgs_lons[missing].tolist(), wgs_lats[missing].tolist())
        for position, flag in zip(missing, flags, strict=True):
            inside[position] = flag
    return Located(plan_id, "sql", wgs_lons, wgs_lats, areas, inside)


def locate_one(
    session: Session, cache: LocateIndexCache, lon: float, lat: float, crs: Crs, district_code: str
) -> tuple[Located, GridArea]:
    """Locate a single point; OutOfDistrictError (422) when no grid of the active plan holds it."""
    located = locate(session, cache, np.array([lon]), np.array([lat]), crs)
    area = located.areas[0]
    if area is None:
        raise OutOfDistrictError(located.reason(0, district_code))
    return located, area

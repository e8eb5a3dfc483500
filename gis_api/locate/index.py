"""In-memory index of every active grid of every district (shapely STRtree + prepared polygons).

Built once per process from the database and rebuilt when an active plan (or its rows) change:
a cheap fingerprint query runs at most every `check_interval_s` seconds. While one thread builds,
others get None and answer through SQL instead of waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.locate.areas import GridArea
from gis_api.locate.rule import AREA_COLUMNS_SQL, ORDER, first_by_code

NO_GRID = -1

FINGERPRINT_SQL = """
SELECT coalesce(string_agg(a.plan_id || ':' ||
         (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(xmin::text::bigint), 0)
          FROM grid WHERE plan_id = a.plan_id) || ':' ||
         (SELECT coalesce(sum(xmin::text::bigint), 0) FROM community WHERE plan_id = a.plan_id),
         ',' ORDER BY a.plan_id), ''),
       (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM street),
       (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM district)
FROM active_plan a
"""
DISTRICTS_SQL = "SELECT code, ST_AsBinary(geom) FROM district ORDER BY code"


def plan_fingerprint(session: Session) -> tuple[str, ...] | None:
    """Identity of the active plans' current rows (ids and row versions); None without any."""
    row = session.execute(text(FINGERPRINT_SQL)).one()
    return None if not row[0] else tuple(str(value) for value in row)


@dataclass(frozen=True)
class GridIndex:
    """The active grids as a spatial index (sorted by code); lookups return positions into `areas`."""

    fingerprint: tuple[str, ...]
    areas: list[GridArea]
    polygons: NDArray[np.object_]
    codes: NDArray[np.object_]
    tree: shapely.STRtree
    district_codes: list[str]
    districts: NDArray[np.object_]

    @classmethod
    def from_rows(
        cls,
        fingerprint: tuple[str, ...],
        areas: list[GridArea],
        polygons: NDArray[np.object_],
        districts: dict[str, shapely.Geometry],
    ) -> GridIndex:
        shapely.prepare(polygons)
        outlines = np.asarray(list(districts.values()), dtype=object)
        shapely.prepare(outlines)
        codes = np.asarray([area.grid_code for area in areas], dtype=object)
        tree = shapely.STRtree(polygons)
        return cls(fingerprint, areas, polygons, codes, tree, list(districts), outlines)

    @property
    def plan_ids(self) -> list[int]:
        return sorted({area.plan_id for area in self.areas})

    def lookup(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.intp]:
        """Position in `areas` of each point's grid (the rule of gis_api.locate.rule), or NO_GRID."""
        point_ids, grid_ids = self.tree.query(shapely.points(lons, lats))
        hit = shapely.intersects_xy(self.polygons[grid_ids], lons[point_ids], lats[point_ids])
        return first_by_code(point_ids[hit], grid_ids[hit], self.codes, len(lons))

    def districts_at(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> list[str | None]:
        """The district each point lies in (the lowest code where outlines overlap), else None."""
        found: list[str | None] = [None] * len(lons)
        for code, outline in zip(reversed(self.district_codes), self.districts[::-1], strict=True):
            for position in np.flatnonzero(shapely.intersects_xy(outline, lons, lats)):
                found[position] = code
        return found


def build_index(session: Session, fingerprint: tuple[str, ...]) -> GridIndex:
    """Read every active grid with its community and street, and the district outlines."""
    rows = session.execute(text(f"{AREA_COLUMNS_SQL} ORDER BY {ORDER}")).all()
    areas = [GridArea(*row[:8]) for row in rows]
    polygons = np.asarray(shapely.from_wkb([bytes(row[8]) for row in rows]), dtype=object)
    districts = {
        str(code): shapely.from_wkb(bytes(wkb)) for code, wkb in session.execute(text(DISTRICTS_SQL))
    }
    return GridIndex.from_rows(fingerprint, areas, polygons, districts)


class LocateIndexCache:
    """The process's current GridIndex, rebuilt when the active plans' fingerprint changes."""

    def __init__(self, check_interval_s: float = 5.0) -> None:
        self.check_interval_s = check_interval_s
        self._index: GridIndex | None = None
        self._checked_at = -float("inf")
        self._build_lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget the index (e.g. right after a plan is activated); the next call rebuilds it."""
        self._index = None
        self._checked_at = -float("inf")

    def current(self, session: Session) -> GridIndex | None:
        """An up-to-date index, or None when no plan is active or another thread is building."""
        index = self._index
        if index is not None and time.monotonic() - self._checked_at < self.check_interval_s:
            return index
        fingerprint = plan_fingerprint(session)
        if fingerprint is None:
            return None
        if index is not None and index.fingerprint == fingerprint:
            self._checked_at = time.monotonic()
            return index
        if not self._build_lock.acquire(blocking=False):
            return None
        try:
            self._index = build_index(session, fingerprint)
            self._checked_at = time.monotonic()
        finally:
            self._build_lock.release()
        return self._index

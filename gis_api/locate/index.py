"""In-memory index of the active plan's grids (shapely STRtree + prepared polygons).

Built once per process from the database and rebuilt when the active plan (or its rows) change:
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

from gis_api.locate.areas import GRID_AREA_COLUMNS, GRID_AREA_JOINS, GridArea

NO_GRID = -1

FINGERPRINT_SQL = """
SELECT p.id,
       (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(xmin::text::bigint), 0)
        FROM grid WHERE plan_id = p.id),
       (SELECT coalesce(sum(xmin::text::bigint), 0) FROM community WHERE plan_id = p.id),
       (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM street),
       (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM district)
FROM plan p WHERE p.status = 'active'
"""


def plan_fingerprint(session: Session) -> tuple[str, ...] | None:
    """Identity of the active plan's current rows (ids and row versions); None without one."""
    row = session.execute(text(FINGERPRINT_SQL)).first()
    return None if row is None else tuple(str(value) for value in row)


@dataclass(frozen=True)
class GridIndex:
    """The grids of one plan as a spatial index; lookups return positions into `areas`."""

    plan_id: int
    fingerprint: tuple[str, ...]
    areas: list[GridArea]
    polygons: NDArray[np.object_]
    tree: shapely.STRtree
    district: shapely.Geometry | None

    @classmethod
    def from_rows(
        cls,
        plan_id: int,
        fingerprint: tuple[str, ...],
        areas: list[GridArea],
        polygons: NDArray[np.object_],
        district: shapely.Geometry | None,
    ) -> GridIndex:
        shapely.prepare(polygons)
        if district is not None:
            shapely.prepare(district)
        return cls(plan_id, fingerprint, areas, polygons, shapely.STRtree(polygons), district)

    def lookup(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.intp]:
        """Position in `areas` of the grid covering each point (lowest grid id on a shared edge)."""
        candidates = self.tree.query(shapely.points(lons, lats))
        point_ids, grid_ids = candidates[0], candidates[1]
        hit = shapely.intersects_xy(self.polygons[grid_ids], lons[point_ids], lats[point_ids])
        point_ids, grid_ids = point_ids[hit], grid_ids[hit]
        # a point on a shared edge touches two grids: keep the first by (point, grid position)
        order = np.lexsort((grid_ids, point_ids))
        points_sorted, first = np.unique(point_ids[order], return_index=True)
        result = np.full(len(lons), NO_GRID, dtype=np.intp)
        result[points_sorted] = grid_ids[order][first]
        return result

    def in_district(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which points lie inside the district outline (all of them when no outline is loaded)."""
        if self.district is None:
            return np.ones(len(lons), dtype=bool)
        return np.asarray(shapely.intersects_xy(self.district, lons, lats))


def build_index(session: Session, plan_id: int, fingerprint: tuple[str, ...]) -> GridIndex:
    """Read the plan's grids with their community and street and index them."""
    rows = session.execute(
        text(
            f"SELECT {GRID_AREA_COLUMNS}, ST_AsBinary(g.geom) FROM {GRID_AREA_JOINS} "
            "WHERE g.plan_id = :plan_id ORDER BY g.id"
        ),
        {"plan_id": plan_id},
    ).all()
    areas = [GridArea(*row[:7]) for row in rows]
    polygons = shapely.from_wkb([bytes(row[7]) for row in rows])
    outline = session.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM district")).scalar()
    district = shapely.from_wkb(bytes(outline)) if outline is not None else None
    return GridIndex.from_rows(plan_id, fingerprint, areas, np.asarray(polygons), district)


class LocateIndexCache:
    """The process's current GridIndex, rebuilt when the active plan's fingerprint changes."""

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
        """An up-to-date index, or None when there is no active plan or another thread is building."""
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
            self._index = build_index(session, int(fingerprint[0]), fingerprint)
            self._checked_at = time.monotonic()
        finally:
            self._build_lock.release()
        return self._index

"""Point → grid for ANY plan of a district (a draft too), in memory, with the one rule of `rule.py`.

The live index (`index.py`) covers the active plans only. Replaying a period on a draft, or
measuring a draft's workload, needs the same answer for the draft's grids: the grid containing or
touching the point, the smallest code on shared edges. One STRtree query for all points at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from gis_api.locate.index import NO_GRID
from gis_api.locate.rule import ORDER, first_by_code

PLAN_GRIDS_SQL = f"""
SELECT g.id, g.code, g.name, c.code AS community_code, g.households, ST_AsBinary(g.geom),
       ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
FROM grid g JOIN community c ON c.id = g.community_id
WHERE g.plan_id = :plan ORDER BY {ORDER}
"""


@dataclass(frozen=True)
class PlanGrids:
    """One plan's grids sorted by code; `lookup` returns positions into these arrays."""

    plan_id: int
    ids: NDArray[np.int64]
    codes: NDArray[np.object_]
    names: list[str]
    community_codes: NDArray[np.object_]
    households: NDArray[np.int64]
    polygons: NDArray[np.object_]
    inner_points: NDArray[np.float64]
    """A point inside each grid (lon, lat): where its worker sets out from."""
    tree: shapely.STRtree

    @property
    def count(self) -> int:
        return len(self.ids)

    def lookup(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.intp]:
        """Position of each point's grid in this plan (the rule of gis_api.locate.rule), or NO_GRID."""
        lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        if len(lons) == 0 or self.count == 0:
            return np.full(len(lons), NO_GRID, dtype=np.intp)
        point_ids, grid_ids = self.tree.query(shapely.points(lons, lats))
        hit = shapely.intersects_xy(self.polygons[grid_ids], lons[point_ids], lats[point_ids])
        return first_by_code(point_ids[hit], grid_ids[hit], self.codes, len(lons))


def plan_grids(connection: Connection, plan_id: int) -> PlanGrids:
    """Read one plan's grids (with their community codes) into a spatial index."""
    rows = connection.execute(text(PLAN_GRIDS_SQL), {"plan": plan_id}).all()
    polygons = np.asarray(shapely.from_wkb([bytes(row[5]) for row in rows]), dtype=object)
    shapely.prepare(polygons)
    return PlanGrids(
        plan_id=plan_id,
        ids=np.array([row[0] for row in rows], dtype=np.int64),
        codes=np.array([row[1] for row in rows], dtype=object),
        names=[str(row[2]) for row in rows],
        community_codes=np.array([row[3] for row in rows], dtype=object),
        households=np.array([row[4] or 0 for row in rows], dtype=np.int64),
        polygons=polygons,
        inner_points=np.array([(row[6], row[7]) for row in rows], dtype=float).reshape(-1, 2),
        tree=shapely.STRtree(polygons),
    )

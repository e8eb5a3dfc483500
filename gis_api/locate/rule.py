"""Point → grid: the one rule, in SQL and in memory.

A point belongs to a grid whose polygon contains or touches it (ST_Intersects: boundary points
too, so nothing on an edge falls through). A point on an edge or vertex shared by several grids
belongs to the one with the SMALLEST GRID CODE. Codes are unique among active grids (they start
with their district's code) and stable across reloads, unlike row ids, so the same point gets the
same grid in every process, every reload and every district. Cases, /locate (single, batch,
memory index and its SQL peer), household loading and plan activation all use what is here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

ORDER = "g.code"
"""SQL ordering that implements the tie-break; every query below sorts by it."""

_AREA = """g.id, g.code, g.name, g.community_code, g.community_name, s.code, s.name, g.plan_id"""
_JOINS = "active_grid g JOIN street s ON s.code = g.street_code"

POINT_SQL = f"""
SELECT {_AREA} FROM {_JOINS}
WHERE ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY {ORDER} LIMIT 1
"""
"""One point against every active grid of every district: (GridArea columns) or no row."""

BATCH_SQL = f"""
WITH points AS (
    SELECT t.ord, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS geom
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS t(lon, lat, ord))
SELECT DISTINCT ON (points.ord) points.ord, {_AREA}
FROM points JOIN {_JOINS} ON ST_Intersects(g.geom, points.geom)
ORDER BY points.ord, {ORDER}
"""
"""Many points in one query: (ordinal, GridArea columns) for the points that lie in a grid."""

AREA_COLUMNS_SQL = f"SELECT {_AREA}, ST_AsBinary(g.geom) FROM {_JOINS}"
"""Every active grid with its community and street, for the memory index (sorted by the rule)."""


def plan_assignment_sql(points: str, plan: str = ":plan_id") -> str:
    """(point id, grid id) of each point of `points` (a relation with id and geom) in a plan's
    grids; points in no grid are absent."""
    return f"""
    SELECT DISTINCT ON (h.id) h.id, g.id AS grid_id
    FROM grid g JOIN {points} h ON ST_Intersects(g.geom, h.geom)
    WHERE g.plan_id = {plan}
    ORDER BY h.id, {ORDER}"""


def first_by_code(
    point_ids: NDArray[np.intp], grid_positions: NDArray[np.intp], codes: NDArray[np.object_], count: int
) -> NDArray[np.intp]:
    """From (point, grid) hit pairs, each point's grid with the smallest code; -1 for no hit.

    `codes[position]` is the grid code at each grid position; `count` the number of points."""
    result = np.full(count, -1, dtype=np.intp)
    if len(point_ids) == 0:
        return result
    order = np.lexsort((codes[grid_positions].astype(str), point_ids))
    points_sorted, first = np.unique(point_ids[order], return_index=True)
    result[points_sorted] = grid_positions[order][first]
    return result

"""Point -> grid lookups in PostGIS (ST_Intersects on the GiST index): the fallback and the peer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.locate.areas import GRID_AREA_COLUMNS, GRID_AREA_JOINS, GridArea

ACTIVE_PLAN_SQL = "SELECT id FROM plan WHERE status = 'active'"

POINT_SQL = f"""
SELECT {GRID_AREA_COLUMNS} FROM {GRID_AREA_JOINS}
WHERE g.plan_id = :plan_id
  AND ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.id LIMIT 1
"""

BATCH_SQL = f"""
WITH points AS (
    SELECT t.ord, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS geom
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS t(lon, lat, ord))
SELECT DISTINCT ON (points.ord) points.ord, {GRID_AREA_COLUMNS}
FROM points JOIN grid g ON g.plan_id = :plan_id AND ST_Intersects(g.geom, points.geom)
    JOIN community c ON c.id = g.community_id JOIN street s ON s.code = c.street_code
ORDER BY points.ord, g.id
"""

IN_DISTRICT_SQL = """
SELECT coalesce(bool_or(ST_Intersects(d.geom, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326))), true)
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS t(lon, lat, ord)
    LEFT JOIN district d ON true
GROUP BY t.ord ORDER BY t.ord
"""


def active_plan_id(session: Session) -> int | None:
    found = session.execute(text(ACTIVE_PLAN_SQL)).scalar()
    return None if found is None else int(found)


def locate_point_sql(session: Session, plan_id: int, lon: float, lat: float) -> GridArea | None:
    """One query per point (the simple way, and the benchmark's first peer)."""
    params = {"plan_id": plan_id, "lon": float(lon), "lat": float(lat)}  # numpy floats too
    row = session.execute(text(POINT_SQL), params).first()
    return None if row is None else GridArea(*row)


def locate_batch_sql(
    session: Session, plan_id: int, lons: Sequence[float], lats: Sequence[float]
) -> list[GridArea | None]:
    """All points in one query: unnest the coordinate arrays and join them to the grids."""
    params = {"plan_id": plan_id, "lons": list(lons), "lats": list(lats)}
    found: list[GridArea | None] = [None] * len(lons)
    for row in session.execute(text(BATCH_SQL), params):
        found[int(row[0]) - 1] = GridArea(*row[1:])
    return found


def in_district_sql(session: Session, lons: Sequence[float], lats: Sequence[float]) -> list[bool]:
    """Which points lie inside the district outline (all of them when none is loaded)."""
    params = {"lons": list(lons), "lats": list(lats)}
    return [bool(value) for value in session.execute(text(IN_DISTRICT_SQL), params).scalars()]

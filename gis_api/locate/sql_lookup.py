"""Point -> grid lookups in PostGIS (ST_Intersects on the GiST index): the fallback and the peer.

Both queries run against every active grid of every district and break ties by gis_api.locate.rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.locate.areas import GridArea
from gis_api.locate.rule import BATCH_SQL, POINT_SQL

Database = Session | Connection

DISTRICT_AT_SQL = """
SELECT (SELECT d.code FROM district d
        WHERE ST_Intersects(d.geom, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)) ORDER BY d.code LIMIT 1)
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS t(lon, lat, ord)
ORDER BY t.ord
"""


def locate_point_sql(db: Database, lon: float, lat: float) -> GridArea | None:
    """One query per point (the simple way, the benchmark's first peer, and what cases use)."""
    params = {"lon": float(lon), "lat": float(lat)}  # numpy floats too
    row = db.execute(text(POINT_SQL), params).first()
    return None if row is None else GridArea(*row)


def locate_batch_sql(db: Database, lons: Sequence[float], lats: Sequence[float]) -> list[GridArea | None]:
    """All points in one query: unnest the coordinate arrays and join them to the grids."""
    params = {"lons": [float(v) for v in lons], "lats": [float(v) for v in lats]}
    found: list[GridArea | None] = [None] * len(lons)
    for row in db.execute(text(BATCH_SQL), params):
        found[int(row[0]) - 1] = GridArea(*row[1:])
    return found


def districts_at_sql(db: Database, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
    """The district (code) each point lies in, None outside every loaded district."""
    params = {"lons": [float(v) for v in lons], "lats": [float(v) for v in lats]}
    return [
        None if code is None else str(code) for code in db.execute(text(DISTRICT_AT_SQL), params).scalars()
    ]

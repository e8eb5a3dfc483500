"""Public outlines for the residents' map: communities of every district's active plan, code and
name only."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

SIMPLIFY_DEGREES = 0.0001
"""About 10 m: enough to find one's community, and the layer stays a few hundred kB."""
AREAS_SQL = """
SELECT CAST(json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature',
    'geometry', CAST(ST_AsGeoJSON(ST_SimplifyPreserveTopology(c.geom, :tol), 6) AS json),
    'properties', json_build_object('code', c.code, 'name', c.name)) ORDER BY c.code), '[]')) AS text)
FROM active_community c
"""


def public_areas_geojson(session: Session) -> str:
    """The GeoJSON text of the communities' outlines."""
    return str(session.execute(text(AREAS_SQL), {"tol": SIMPLIFY_DEGREES}).scalar_one())

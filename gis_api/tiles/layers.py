"""SQL of each tile layer: rows clipped and quantised to the tile, aggregated by ST_AsMVT.

Every query returns (mvt bytes, feature count). Polygons go through ST_AsMVTGeom; household
points are projected to Web Mercator arithmetically (cheaper than ST_Transform per point, which
dominates at 40,000 points a tile) and quantised straight to tile coordinates.
"""

from __future__ import annotations

EXTENT = 4096
BUFFER = 64
BOUNDARY_LAYERS = ("streets", "communities", "grids")
PLAN_LAYERS = ("communities", "grids")
"""Layers drawn from plans (each district's active one unless ?plan_id= is given)."""
HOUSEHOLD_LAYER = "households"
LAYERS = (*BOUNDARY_LAYERS, "roads", HOUSEHOLD_LAYER)
MAJOR_ROADS_MAX_ZOOM = 11
"""Up to this zoom the roads layer holds only motorways, trunk and primary roads."""
HOUSEHOLD_MIN_ZOOM = 14
"""Household tiles exist from here; below it a district holds too many points to be useful."""
HOUSEHOLD_POINTS_MIN_ZOOM = 16
"""From here one feature per household (id, residents, grid_code); at 14-15 one per building with
`households` and `residents` (households without a building: negative id, households 1)."""

# :west.. :north (the tile plus its buffer in WGS84), :x0, :y1, :size (Web Mercator metres) come
# from TileAddress, as literal values the planner can estimate row counts from.
BOUNDS = """
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_MakeEnvelope(:west, :south, :east, :north, 4326) AS env4326)"""

MVT_GEOM = f"ST_AsMVTGeom(ST_Transform({{column}}, 3857), b.env, {EXTENT}, {BUFFER}, true)"


def _mvt(layer: str, rows: str, id_column: str | None = None) -> str:
    id_argument = f", '{id_column}'" if id_column else ""
    return (
        f"{BOUNDS}\nSELECT ST_AsMVT(t, '{layer}', {EXTENT}, 'geom'{id_argument}), count(*) "
        f"FROM ({rows}) AS t WHERE t.geom IS NOT NULL"
    )


STREETS_SQL = _mvt(
    "streets",
    f"""SELECT s.code, s.name, {MVT_GEOM.format(column="s.geom")} AS geom
        FROM street s, bounds b WHERE s.geom && b.env4326 AND s.code LIKE :prefix""",
)

COMMUNITIES_SQL = _mvt(
    "communities",
    f"""SELECT c.code, c.name, c.street_code, c.households, {MVT_GEOM.format(column="c.geom")} AS geom
        FROM community c, bounds b
        WHERE c.plan_id = ANY(CAST(:plan_ids AS integer[])) AND c.geom && b.env4326""",
)

GRIDS_SQL = _mvt(
    "grids",
    f"""SELECT g.code, g.name, c.code AS community_code, g.households,
               {MVT_GEOM.format(column="g.geom")} AS geom
        FROM grid g JOIN community c ON c.id = g.community_id, bounds b
        WHERE g.plan_id = ANY(CAST(:plan_ids AS integer[])) AND g.geom && b.env4326""",
)

# Web Mercator: x = R·λ, y = R·ln(tan(π/4 + φ/2)), R = 6378137 m
_MERCATOR_X = "(ST_X(h.geom) * 20037508.342789244 / 180)"
_MERCATOR_Y = "(ln(tan((90 + ST_Y(h.geom)) * pi() / 360)) * 6378137)"
HOUSEHOLD_POINT = (
    f"ST_MakePoint(round(({_MERCATOR_X} - :x0) / :size * {EXTENT}), "
    f"round((:y1 - {_MERCATOR_Y}) / :size * {EXTENT}))"
)

HOUSEHOLD_POINTS_SQL = _mvt(
    HOUSEHOLD_LAYER,
    f"""SELECT h.id, h.residents, g.code AS grid_code, {HOUSEHOLD_POINT} AS geom
        FROM household h LEFT JOIN grid g ON g.id = h.grid_id
        WHERE h.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326) AND {{scope}}""",
    id_column="id",
)

HOUSEHOLD_BUILDINGS_SQL = _mvt(
    HOUSEHOLD_LAYER,
    f"""SELECT a.building_id AS id, a.households, a.residents,
               {MVT_GEOM.format(column="ST_PointOnSurface(bl.geom)")} AS geom
        FROM (SELECT h.building_id, count(*)::int AS households, sum(h.residents)::int AS residents
              FROM household h
              WHERE h.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)
                AND h.building_id IS NOT NULL AND {{scope}}
              GROUP BY h.building_id) AS a
        JOIN building bl ON bl.id = a.building_id, bounds b
        UNION ALL
        SELECT -h.id, 1, h.residents, {HOUSEHOLD_POINT}
        FROM household h
        WHERE h.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)
          AND h.building_id IS NULL AND {{scope}}""",
    id_column="id",
)

ROADS_SQL = _mvt(
    "roads",
    f"""SELECT e.name, e.road_class, e.oneway, {MVT_GEOM.format(column="e.geom")} AS geom
        FROM road_edge e, bounds b
        WHERE e.geom && b.env4326 AND e.district_code LIKE :prefix
          AND (:z > {MAJOR_ROADS_MAX_ZOOM} OR e.road_class IN ('motorway', 'trunk', 'primary'))""",
)

AREA_SQL = {"streets": STREETS_SQL, "communities": COMMUNITIES_SQL, "grids": GRIDS_SQL, "roads": ROADS_SQL}

"""SQL of each tile layer: rows clipped and quantised to the tile, aggregated by ST_AsMVT.

Every query returns (mvt bytes, feature count). Polygons go through ST_AsMVTGeom; points
(households, and the building points of z14-15) are projected to Web Mercator arithmetically and
quantised straight to tile coordinates: ST_Transform costs about 0.25 ms a point here, which made
a z15 tile of 100 buildings take 25 ms against 3 ms for the same bytes (bench/tiles.py).
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


def _mvt(layer: str, rows: str, id_column: str | None = None, ctes: str = "") -> str:
    """The layer's rows (with a `geom` in tile coordinates) as one MVT and their count; `ctes`
    are more common table expressions for the rows (after `bounds`)."""
    id_argument = f", '{id_column}'" if id_column else ""
    return (
        f"{BOUNDS}{ctes}\nSELECT ST_AsMVT(t, '{layer}', {EXTENT}, 'geom'{id_argument}), count(*) "
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


def tile_point(column: str) -> str:
    """A WGS84 point column in tile coordinates (Web Mercator x = R·λ, y = R·ln(tan(π/4 + φ/2)),
    R = 6378137 m), rounded to the tile's grid as ST_AsMVTGeom would."""
    mercator_x = f"(ST_X({column}) * 20037508.342789244 / 180)"
    mercator_y = f"(ln(tan((90 + ST_Y({column})) * pi() / 360)) * 6378137)"
    return (
        f"ST_MakePoint(round(({mercator_x} - :x0) / :size * {EXTENT}), "
        f"round((:y1 - {mercator_y}) / :size * {EXTENT}))"
    )


HOUSEHOLD_POINT = tile_point("h.geom")
TILE_BOX = "ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
"""The tile and its buffer in WGS84: points outside it are left out, as ST_AsMVTGeom clips them."""

HOUSEHOLD_POINTS_SQL = _mvt(
    HOUSEHOLD_LAYER,
    "SELECT f.id, f.residents, c.code AS grid_code, f.geom "
    "FROM found f LEFT JOIN codes c ON c.id = f.grid_id",
    id_column="id",
    ctes=f""",
found AS MATERIALIZED (
    SELECT h.id, h.residents, h.grid_id, {HOUSEHOLD_POINT} AS geom
    FROM household h WHERE h.geom && {TILE_BOX} AND {{scope}}),
codes AS (SELECT g.id, g.code FROM grid g WHERE g.id = ANY(ARRAY(SELECT DISTINCT grid_id FROM found)))""",
)
"""z16 and up: one feature per household with its grid's code. The codes are looked up for the few
grids the tile's households point at (a few dozen): joined per household, the planner hashed every
grid of the database instead (16,269 in the city, a sequential scan of 1,037 pages per tile, 10-24
ms of a 30-45 ms dense tile)."""

UNHOUSED_POINTS = f"""
        SELECT -h.id, 1, h.residents, {HOUSEHOLD_POINT}
        FROM household h
        WHERE h.geom && {TILE_BOX} AND h.building_id IS NULL AND {{scope}}"""
"""Households without a building, one feature each (negative id) at z14-15."""

HOUSEHOLD_BUILDINGS_BY_ROW_SQL = _mvt(
    HOUSEHOLD_LAYER,
    f"""SELECT a.building_id AS id, a.households, a.residents, {tile_point("bl.point")} AS geom
        FROM (SELECT h.building_id, count(*)::int AS households, sum(h.residents)::int AS residents
              FROM household h
              WHERE h.geom && {TILE_BOX} AND h.building_id IS NOT NULL AND {{scope}}
              GROUP BY h.building_id) AS a
        JOIN LATERAL (SELECT ST_PointOnSurface(geom) AS point FROM building WHERE id = a.building_id) bl
          ON bl.point && {TILE_BOX}
        UNION ALL {UNHOUSED_POINTS}""",
    id_column="id",
)
"""z14-15 for scopes chosen by grid (street, community, grid): their households counted per building
in the tile. A building's households may span grids, so a stored count cannot serve them; such a
scope holds a few thousand households at most."""

HOUSEHOLD_BUILDINGS_SQL = _mvt(
    HOUSEHOLD_LAYER,
    f"""SELECT a.id, a.households, a.residents, {tile_point("a.point")} AS geom
        FROM (SELECT b.id, ST_PointOnSurface(b.geom) AS point,
                     sum(o.households)::int AS households, sum(o.residents)::int AS residents
              FROM building b JOIN building_households o ON o.building_id = b.id
              WHERE b.geom && {TILE_BOX} AND {{building_scope}}
              GROUP BY b.id) AS a
        WHERE a.point && {TILE_BOX}
        UNION ALL {UNHOUSED_POINTS}""",
    id_column="id",
)
"""z14-15 for scopes of whole districts (district, city): one row per building from the counts the
database keeps (migration 0014), instead of every household of the tile; a dense z14 tile of a
city holds tens of thousands of households but a few thousand buildings. A building counts all its
households of the scope, also those beyond the tile's buffer."""

ROADS_SQL = _mvt(
    "roads",
    f"""SELECT e.name, e.road_class, e.oneway, {MVT_GEOM.format(column="e.geom")} AS geom
        FROM road_edge e, bounds b
        WHERE e.geom && b.env4326 AND e.district_code LIKE :prefix
          AND (:z > {MAJOR_ROADS_MAX_ZOOM} OR e.road_class IN ('motorway', 'trunk', 'primary'))""",
)

AREA_SQL = {"streets": STREETS_SQL, "communities": COMMUNITIES_SQL, "grids": GRIDS_SQL, "roads": ROADS_SQL}

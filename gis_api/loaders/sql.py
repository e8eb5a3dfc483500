"""SQL of the loaders: staging tables, checks against loaded layers, and idempotent upserts.

Each upsert updates a row only when something differs (DO UPDATE … WHERE … IS DISTINCT FROM),
so reloading a file rewrites nothing; geometry `=` is exact coordinate equality in PostGIS 3.
"""

from __future__ import annotations

from gis_api.locate.rule import plan_assignment_sql

BOUNDARY_STAGE = "code varchar(20), name text, parent varchar(20), geom geometry(MultiPolygon, 4326)"

# district outlines go through gis_api.districts.service (city, metric CRS, provenance)
BOUNDARY_UPSERT = {
    "street": """
        INSERT INTO street (code, name, district_code, geom)
        SELECT code, name, parent, geom FROM load_boundary
        ON CONFLICT (code) DO UPDATE
        SET name = excluded.name, district_code = excluded.district_code, geom = excluded.geom
        WHERE (street.name, street.district_code, street.geom)
            IS DISTINCT FROM (excluded.name, excluded.district_code, excluded.geom)""",
    "community": """
        INSERT INTO community (plan_id, code, name, street_code, geom)
        SELECT :plan_id, code, name, parent, geom FROM load_boundary
        ON CONFLICT (plan_id, code) DO UPDATE
        SET name = excluded.name, street_code = excluded.street_code, geom = excluded.geom
        WHERE (community.name, community.street_code, community.geom)
            IS DISTINCT FROM (excluded.name, excluded.street_code, excluded.geom)""",
    "grid": """
        INSERT INTO grid (plan_id, code, name, community_id, geom)
        SELECT :plan_id, b.code, b.name, c.id, b.geom
        FROM load_boundary b JOIN community c ON c.plan_id = :plan_id AND c.code = b.parent
        ON CONFLICT (plan_id, code) DO UPDATE
        SET name = excluded.name, community_id = excluded.community_id, geom = excluded.geom
        WHERE (grid.name, grid.community_id, grid.geom)
            IS DISTINCT FROM (excluded.name, excluded.community_id, excluded.geom)""",
}

MISSING_PARENTS = {
    "street": "SELECT DISTINCT parent FROM load_boundary "
    "WHERE parent NOT IN (SELECT code FROM district) ORDER BY 1",
    "community": "SELECT DISTINCT parent FROM load_boundary "
    "WHERE parent NOT IN (SELECT code FROM street) ORDER BY 1",
    "grid": "SELECT DISTINCT parent FROM load_boundary "
    "WHERE parent NOT IN (SELECT code FROM community WHERE plan_id = :plan_id) ORDER BY 1",
}

CREATE_DRAFT_PLAN = """
    INSERT INTO plan (name, status, description, district_code)
    VALUES (:name, 'draft', 'created by wangge load boundaries', :district) RETURNING id"""

HOUSEHOLD_STAGE = """
    id bigint PRIMARY KEY, building_id bigint, residents smallint,
    lon double precision, lat double precision,
    geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"""

HOUSEHOLD_INDEX = "CREATE INDEX ON load_household USING gist (geom); ANALYZE load_household"

# The grid loop is outside (each polygon is prepared once, points found through their index);
# the point → grid rule (gis_api.locate.rule: smallest grid code on a shared edge) puts a point on
# the shared edge of two grids in the same grid on every reload. The result goes to its own
# table: updating 10^5 staged rows in place costs several times more.
HOUSEHOLD_ASSIGN_GRID = f"""
    CREATE TEMP TABLE load_assignment ON COMMIT DROP AS {plan_assignment_sql("load_household")}"""

NO_GRID_ASSIGNMENT = "CREATE TEMP TABLE load_assignment (id bigint, grid_id integer) ON COMMIT DROP"

HOUSEHOLDS_WITHOUT_GRID = """
    SELECT id FROM load_household h
    WHERE NOT EXISTS (SELECT 1 FROM load_assignment a WHERE a.id = h.id)
    ORDER BY id"""

MISSING_BUILDINGS = """
    SELECT DISTINCT building_id FROM load_household h
    WHERE building_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM building b WHERE b.id = h.building_id AND b.district_code = :district)
    ORDER BY 1 LIMIT 20"""

# Household ids are global: a register of one district must not take over another's households.
HOUSEHOLDS_OF_OTHER_DISTRICTS = """
    SELECT h.id FROM household h JOIN load_household s ON s.id = h.id
    WHERE h.district_code <> :district ORDER BY h.id LIMIT 20"""

HOUSEHOLD_UPSERT = """
    INSERT INTO household (id, building_id, residents, grid_id, geom, district_code)
    SELECT h.id, h.building_id, h.residents, a.grid_id, h.geom, :district
    FROM load_household h LEFT JOIN load_assignment a ON a.id = h.id
    ORDER BY h.id  -- primary-key order keeps the btree inserts local: ~1/3 faster on 442k rows
    ON CONFLICT (id) DO UPDATE
    SET building_id = excluded.building_id, residents = excluded.residents,
        grid_id = excluded.grid_id, geom = excluded.geom, district_code = excluded.district_code
    WHERE (household.building_id, household.residents, household.grid_id, household.geom,
           household.district_code)
        IS DISTINCT FROM (excluded.building_id, excluded.residents, excluded.grid_id, excluded.geom,
                          excluded.district_code)"""

BUILDING_STAGE = """
    seq integer, id bigint, source varchar(32), source_id varchar(64), kind varchar(32),
    levels smallint, households integer, geom geometry(Geometry, 4326)"""

# Existing (source, source_id) keep their id; new buildings continue after the largest id.
BUILDING_ASSIGN_IDS = """
    UPDATE load_building s SET id = b.id
    FROM building b WHERE b.source = s.source AND b.source_id = s.source_id;
    UPDATE load_building s SET id = base.max_id + numbered.n
    FROM (SELECT coalesce(max(id), 0) AS max_id FROM building) base,
         (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM load_building WHERE id IS NULL)
         numbered
    WHERE s.seq = numbered.seq"""

BUILDINGS_OF_OTHER_DISTRICTS = """
    SELECT s.source_id FROM load_building s JOIN building b ON b.id = s.id
    WHERE b.district_code <> :district ORDER BY s.seq LIMIT 20"""

BUILDING_UPSERT = """
    INSERT INTO building (id, source, source_id, kind, levels, households, geom, district_code)
    SELECT id, source, source_id, kind, levels, households, geom, :district FROM load_building
    ON CONFLICT (id) DO UPDATE
    SET kind = excluded.kind, levels = excluded.levels, households = excluded.households,
        geom = excluded.geom, district_code = excluded.district_code
    WHERE (building.kind, building.levels, building.households, building.geom, building.district_code)
        IS DISTINCT FROM (excluded.kind, excluded.levels, excluded.households, excluded.geom,
                          excluded.district_code)"""


def holding_footprint_sql(points: str, key: str) -> str:
    """(point key, building id, footprint WKB) of each point of `points` (a relation with `key` and
    geom) that lies inside a polygonal building footprint of the district `:district`: the smallest
    such footprint (nested footprints: the inner one; equal areas: the lowest id).

    The one rule for "the building a register's point is in": a counted point is put into that
    building when it is loaded (households._into_footprints), and households that share a point
    without a building are given to it when a plan is drawn (redistrict.inputs.pseudo_buildings)."""
    return f"""
    SELECT DISTINCT ON (p.{key}) p.{key}, b.id, ST_AsBinary(b.geom)
    FROM {points} p JOIN building b ON ST_Contains(b.geom, p.geom)
    WHERE ST_Dimension(b.geom) = 2 AND b.district_code = :district
    ORDER BY p.{key}, ST_Area(b.geom), b.id"""


POINT_FOOTPRINTS = holding_footprint_sql("load_point", "row")
"""The footprint holding each staged point of load_point (row, geom)."""

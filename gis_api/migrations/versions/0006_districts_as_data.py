"""Districts as data, many per database: cities, per-district metric CRS and data provenance,
plans per district, district codes on households/buildings/water/roads, city roles, and the views
that own "the active plan".

Backfills an existing single-district database: its district joins city left(code, 4) (4201 is
named 武汉市), keeps the metric CRS the global setting used (EPSG:32650, UTM 50N), and every plan,
household, building, water body and road gets that district. A database whose plans or rows
cannot be attributed to one district stops the migration with a message naming them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CITIES = """
CREATE TABLE city (
    code varchar(4) PRIMARY KEY CHECK (code ~ '^[0-9]{4}$'),
    name varchar(64) NOT NULL CHECK (name <> '')
);
INSERT INTO city (code, name)
SELECT DISTINCT left(code, 4), CASE left(code, 4) WHEN '4201' THEN '武汉市' ELSE left(code, 4) END
FROM district;

ALTER TABLE district
    ADD COLUMN city_code varchar(4) GENERATED ALWAYS AS (left(code, 4)) STORED REFERENCES city(code),
    ADD COLUMN metric_crs varchar(16) NOT NULL DEFAULT 'EPSG:32650'
        CHECK (metric_crs ~ '^EPSG:[0-9]{4,6}$'),
    ADD COLUMN metric_crs_family varchar(16) NOT NULL DEFAULT 'utm'
        CHECK (metric_crs_family IN ('cgcs2000_gk3', 'utm', 'custom')),
    ADD COLUMN metric_srid integer GENERATED ALWAYS AS (CAST(substr(metric_crs, 6) AS integer)) STORED;
ALTER TABLE district ALTER COLUMN metric_crs DROP DEFAULT, ALTER COLUMN metric_crs_family DROP DEFAULT;
CREATE INDEX ix_district_city ON district (city_code);

-- which layers of a district are real and which synthetic (the pages show a notice for the latter)
CREATE TABLE data_layer (
    district_code varchar(6) NOT NULL REFERENCES district(code) ON DELETE CASCADE,
    layer varchar(16) NOT NULL CHECK (layer IN ('outline', 'streets', 'communities', 'grids',
        'buildings', 'households', 'roads', 'water', 'parks')),
    synthetic boolean NOT NULL,
    source text NOT NULL DEFAULT '',
    licence text NOT NULL DEFAULT '',
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district_code, layer)
);
"""

PLANS = """
ALTER TABLE plan ADD COLUMN district_code varchar(6) REFERENCES district(code);
-- a plan belongs to the district of its communities, or to the only district there is
UPDATE plan p SET district_code = found.code
FROM (SELECT plan_id, min(left(street_code, 6)) AS code FROM community GROUP BY plan_id
      HAVING count(DISTINCT left(street_code, 6)) = 1) found
WHERE found.plan_id = p.id;
UPDATE plan SET district_code = (SELECT min(code) FROM district)
WHERE district_code IS NULL AND (SELECT count(*) FROM district) = 1;
DO $$
DECLARE unknown text;
BEGIN
    SELECT string_agg(id::text, ', ' ORDER BY id) INTO unknown FROM plan WHERE district_code IS NULL;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'migration 0006: plan(s) % cannot be given a district: they have no communities '
            'of a single district and the database holds % districts; delete or fix them first',
            unknown, (SELECT count(*) FROM district);
    END IF;
END $$;
ALTER TABLE plan ALTER COLUMN district_code SET NOT NULL;
CREATE INDEX ix_plan_district ON plan (district_code);
DROP INDEX uq_plan_one_active;
-- one active plan per district: activating one district's plan never touches another's
CREATE UNIQUE INDEX uq_plan_one_active_per_district ON plan (district_code) WHERE status = 'active';
"""

# household/building/water/road rows get the district they lie in: the only district, else the
# district of the household's grid, else the nearest district (points on the outline, slivers)
ROWS = """
ALTER TABLE household ADD COLUMN district_code varchar(6) REFERENCES district(code);
ALTER TABLE building ADD COLUMN district_code varchar(6) REFERENCES district(code);
ALTER TABLE water ADD COLUMN district_code varchar(6) REFERENCES district(code);
ALTER TABLE road_node ADD COLUMN district_code varchar(6) REFERENCES district(code);
ALTER TABLE road_edge ADD COLUMN district_code varchar(6) REFERENCES district(code);
DO $$
DECLARE only_code varchar(6);
BEGIN
    IF (SELECT count(*) FROM district) = 1 THEN
        SELECT code INTO only_code FROM district;
        UPDATE household SET district_code = only_code;
        UPDATE building SET district_code = only_code;
        UPDATE water SET district_code = only_code;
        UPDATE road_node SET district_code = only_code;
        UPDATE road_edge SET district_code = only_code;
        RETURN;
    END IF;
    UPDATE household h SET district_code = left(c.street_code, 6)
    FROM grid g JOIN community c ON c.id = g.community_id WHERE g.id = h.grid_id;
    UPDATE household h SET district_code =
        (SELECT d.code FROM district d ORDER BY d.geom <-> h.geom, d.code LIMIT 1)
    WHERE h.district_code IS NULL;
    UPDATE building b SET district_code =
        (SELECT d.code FROM district d ORDER BY d.geom <-> ST_PointOnSurface(b.geom), d.code LIMIT 1);
    UPDATE water w SET district_code =
        (SELECT d.code FROM district d ORDER BY d.geom <-> ST_PointOnSurface(w.geom), d.code LIMIT 1);
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM household WHERE district_code IS NULL)
       OR EXISTS (SELECT 1 FROM building WHERE district_code IS NULL) THEN
        RAISE EXCEPTION 'migration 0006: households or buildings exist but no district is loaded; '
            'load the district outline first';
    END IF;
END $$;
ALTER TABLE household ALTER COLUMN district_code SET NOT NULL;
ALTER TABLE building ALTER COLUMN district_code SET NOT NULL;
CREATE INDEX ix_household_district ON household (district_code);
CREATE INDEX ix_building_district ON building (district_code);
CREATE INDEX ix_water_district ON water (district_code);
CREATE INDEX ix_road_node_district ON road_node (district_code);
CREATE INDEX ix_road_edge_district ON road_edge (district_code);
"""

ROLES = """
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check CHECK (role IN ('admin', 'city_operator',
    'district_operator', 'street_operator', 'community_operator', 'grid_worker', 'planner'));
ALTER TABLE app_user DROP CONSTRAINT app_user_scope_code_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_scope_code_check
    CHECK (scope_code ~ '^[0-9]{4}([0-9]{2}([0-9]{3}|[0-9]{6}|[0-9]{7,14})?)?$');
"""

# The one definition of "the active plan" in SQL: code joins these instead of plan.status
VIEWS = """
CREATE VIEW active_plan AS
SELECT p.district_code, p.id AS plan_id FROM plan p WHERE p.status = 'active';

CREATE VIEW active_community AS
SELECT c.id, c.plan_id, c.code, c.name, c.street_code, c.households, c.geom, p.district_code
FROM community c JOIN plan p ON p.id = c.plan_id AND p.status = 'active';

CREATE VIEW active_grid AS
SELECT g.id, g.plan_id, g.code, g.name, g.community_id, g.households, g.geom,
       c.code AS community_code, c.name AS community_name, c.street_code, p.district_code
FROM grid g JOIN community c ON c.id = g.community_id
    JOIN plan p ON p.id = g.plan_id AND p.status = 'active';
"""

DOWNGRADE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM app_user WHERE role = 'city_operator' OR length(scope_code) = 4) THEN
        RAISE EXCEPTION 'downgrade below 0006: accounts with a city role or scope exist; remove them first';
    END IF;
    IF (SELECT count(*) FROM plan WHERE status = 'active') > 1 THEN
        RAISE EXCEPTION 'downgrade below 0006: % districts have an active plan; the old schema allows one',
            (SELECT count(*) FROM plan WHERE status = 'active');
    END IF;
END $$;
DROP VIEW IF EXISTS active_grid, active_community, active_plan;
ALTER TABLE app_user DROP CONSTRAINT app_user_scope_code_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_scope_code_check
    CHECK (scope_code ~ '^[0-9]{6}([0-9]{3}|[0-9]{6}|[0-9]{7,14})?$');
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check CHECK (role IN ('admin', 'district_operator',
    'street_operator', 'community_operator', 'grid_worker', 'planner'));
ALTER TABLE road_edge DROP COLUMN district_code;
ALTER TABLE road_node DROP COLUMN district_code;
ALTER TABLE water DROP COLUMN district_code;
ALTER TABLE building DROP COLUMN district_code;
ALTER TABLE household DROP COLUMN district_code;
DROP INDEX uq_plan_one_active_per_district;
CREATE UNIQUE INDEX uq_plan_one_active ON plan ((true)) WHERE status = 'active';
ALTER TABLE plan DROP COLUMN district_code;
DROP TABLE data_layer;
ALTER TABLE district DROP COLUMN metric_srid, DROP COLUMN metric_crs_family, DROP COLUMN metric_crs,
    DROP COLUMN city_code;
DROP TABLE city;
"""


def upgrade() -> None:
    for step in (CITIES, PLANS, ROWS, ROLES, VIEWS):
        op.execute(step)


def downgrade() -> None:
    op.execute(DOWNGRADE)

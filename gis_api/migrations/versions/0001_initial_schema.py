"""Initial schema: areas, plans, buildings, households, roads, team members.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;

CREATE TABLE district (
    code varchar(6) PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name varchar(64) NOT NULL,
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE TABLE street (
    code varchar(9) PRIMARY KEY CHECK (code ~ '^[0-9]{9}$'),
    name varchar(64) NOT NULL,
    district_code varchar(6) NOT NULL REFERENCES district(code),
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CHECK (left(code, 6) = district_code)
);
CREATE INDEX ix_street_geom ON street USING gist (geom);
CREATE TABLE water (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL,
    kind varchar(16) NOT NULL,
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX ix_water_geom ON water USING gist (geom);

CREATE TYPE plan_status AS ENUM ('draft', 'active', 'archived');
CREATE TABLE plan (
    id serial PRIMARY KEY,
    name varchar(128) NOT NULL,
    status plan_status NOT NULL DEFAULT 'draft',
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    valid_from timestamptz,
    valid_to timestamptz,
    metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
-- exactly one active plan at a time: the partial unique index forbids a second one
CREATE UNIQUE INDEX uq_plan_one_active ON plan ((true)) WHERE status = 'active';

CREATE TABLE community (
    id serial PRIMARY KEY,
    plan_id integer NOT NULL REFERENCES plan(id) ON DELETE CASCADE,
    code varchar(12) NOT NULL CHECK (code ~ '^[0-9]{12}$'),
    name varchar(64) NOT NULL,
    street_code varchar(9) NOT NULL REFERENCES street(code),
    households integer NOT NULL DEFAULT 0,
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CONSTRAINT uq_community_plan_id UNIQUE (plan_id, code),
    CHECK (left(code, 9) = street_code)
);
CREATE INDEX ix_community_geom ON community USING gist (geom);
CREATE INDEX ix_community_plan ON community (plan_id);

CREATE TABLE grid (
    id serial PRIMARY KEY,
    plan_id integer NOT NULL REFERENCES plan(id) ON DELETE CASCADE,
    code varchar(20) NOT NULL CHECK (code ~ '^[0-9]{13,20}$'),
    name varchar(96) NOT NULL,
    community_id integer NOT NULL REFERENCES community(id) ON DELETE CASCADE,
    households integer NOT NULL DEFAULT 0,
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CONSTRAINT uq_grid_plan_id UNIQUE (plan_id, code)
);
CREATE INDEX ix_grid_geom ON grid USING gist (geom);
CREATE INDEX ix_grid_plan ON grid (plan_id);
CREATE INDEX ix_grid_community ON grid (community_id);

CREATE TABLE building (
    id bigint PRIMARY KEY,
    source varchar(32) NOT NULL,
    source_id varchar(64),
    kind varchar(32) NOT NULL DEFAULT 'residential',
    levels smallint,
    households integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    geom geometry(Geometry, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CONSTRAINT uq_building_source UNIQUE (source, source_id)
);
CREATE INDEX ix_building_geom ON building USING gist (geom);

CREATE TABLE household (
    id bigint PRIMARY KEY,
    building_id bigint REFERENCES building(id) ON DELETE SET NULL,
    residents smallint NOT NULL DEFAULT 1 CHECK (residents >= 1),
    grid_id integer REFERENCES grid(id) ON DELETE SET NULL,
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX ix_household_geom ON household USING gist (geom);
CREATE INDEX ix_household_grid ON household (grid_id);
CREATE INDEX ix_household_building ON household (building_id);

CREATE TABLE road_node (
    id bigint PRIMARY KEY,
    component bigint NOT NULL DEFAULT 0,
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX ix_road_node_geom ON road_node USING gist (geom);
CREATE TABLE road_edge (
    id bigint PRIMARY KEY,
    source bigint NOT NULL REFERENCES road_node(id),
    target bigint NOT NULL REFERENCES road_node(id),
    name varchar(128),
    road_class varchar(32) NOT NULL,
    oneway boolean NOT NULL DEFAULT false,
    length_m double precision NOT NULL CHECK (length_m >= 0),
    speed_kmh double precision NOT NULL CHECK (speed_kmh > 0),
    travel_time_s double precision NOT NULL CHECK (travel_time_s >= 0),
    cost double precision NOT NULL,
    reverse_cost double precision NOT NULL,
    geom geometry(LineString, 4326) NOT NULL
);
CREATE INDEX ix_road_edge_geom ON road_edge USING gist (geom);
CREATE INDEX ix_road_edge_source ON road_edge (source);
CREATE INDEX ix_road_edge_target ON road_edge (target);

CREATE TYPE member_role AS ENUM
    ('grid_worker', 'sinking_cadre', 'street_cadre', 'party_member', 'volunteer');
CREATE TYPE availability AS ENUM ('available', 'en_route', 'on_scene', 'off_duty');
CREATE TABLE team_member (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL,
    role member_role NOT NULL,
    home_grid_id integer REFERENCES grid(id) ON DELETE SET NULL,
    status availability NOT NULL DEFAULT 'available',
    last_position geometry(Point, 4326),
    last_seen_at timestamptz
);
CREATE INDEX ix_team_member_position ON team_member USING gist (last_position);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS team_member, road_edge, road_node, household, building,
    grid, community, plan, water, street, district CASCADE;
DROP TYPE IF EXISTS availability, member_role, plan_status;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

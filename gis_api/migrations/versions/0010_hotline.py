"""Hotline desk (12345): the `hotline` case source, callers' contacts kept apart from cases, building
names, and trigram indexes for the one search box.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE incident DROP CONSTRAINT IF EXISTS incident_source_check;
ALTER TABLE incident ADD CONSTRAINT incident_source_check
    CHECK (source IN ('api', 'open311', 'patrol', 'hotline'));

-- the caller of a hotline case: personal data, never part of the case row, its events or its feeds;
-- read only by the roles of gis_api.auth.scope.CONTACT_READERS, every read audited
CREATE TABLE case_contact (
    case_id bigint PRIMARY KEY REFERENCES incident(id) ON DELETE CASCADE,
    name varchar(64) NOT NULL DEFAULT '',
    phone varchar(32) NOT NULL DEFAULT '',
    recorded_by integer REFERENCES app_user(id) ON DELETE SET NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (name <> '' OR phone <> '')
);

-- OSM names of landmark buildings (schools, hospitals, named residential blocks) for the search box
ALTER TABLE building ADD COLUMN name varchar(128);

CREATE INDEX ix_building_name_trgm ON building USING gin (name gin_trgm_ops) WHERE name IS NOT NULL;
CREATE INDEX ix_road_edge_name_trgm ON road_edge USING gin (name gin_trgm_ops) WHERE name IS NOT NULL;
CREATE INDEX ix_street_name_trgm ON street USING gin (name gin_trgm_ops);
CREATE INDEX ix_community_name_trgm ON community USING gin (name gin_trgm_ops);
CREATE INDEX ix_grid_name_trgm ON grid USING gin (name gin_trgm_ops);
CREATE INDEX ix_community_code ON community (code varchar_pattern_ops);
CREATE INDEX ix_grid_code ON grid (code varchar_pattern_ops);
-- open cases of one category near a point (duplicate hints at the hotline desk)
CREATE INDEX ix_incident_open_category ON incident (category_code) WHERE state NOT IN ('closed', 'void');
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_incident_open_category, ix_grid_code, ix_community_code, ix_grid_name_trgm,
    ix_community_name_trgm, ix_street_name_trgm, ix_road_edge_name_trgm, ix_building_name_trgm;
ALTER TABLE building DROP COLUMN IF EXISTS name;
DROP TABLE IF EXISTS case_contact;
-- hotline cases stay, counted as plain API reports (the older schema knows no other source)
UPDATE incident SET source = 'api' WHERE source = 'hotline';
ALTER TABLE incident DROP CONSTRAINT IF EXISTS incident_source_check;
ALTER TABLE incident ADD CONSTRAINT incident_source_check CHECK (source IN ('api', 'open311', 'patrol'));
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

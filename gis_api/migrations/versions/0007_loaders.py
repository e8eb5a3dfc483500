"""Parks (no-household zones and planning barriers, like water) and source keys for reloadable layers.

`park` holds leisure=park / landuse=grass|recreation_ground… polygons. Like water since 0006, a
park carries the district whose load brought it (`district_code`, nullable: a park along an
outline bounds both districts, so the optimiser and the loaders select parks and water
spatially, within a distance of the district's outline, not by this code). `water` gains the
same (source, source_id) key as `building`, per district, so `wangge load water` and `wangge osm
import` can reload a file without duplicating lakes, while a river loaded by two neighbouring
districts stays two rows, each clipped to its own district; the demo's water rows keep NULL keys
(NULLs never collide). Nothing to backfill: the park table is new, and water rows already got
their district in 0006.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE park (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL DEFAULT '',
    kind varchar(32) NOT NULL,
    source varchar(32),
    source_id varchar(64),
    district_code varchar(6) REFERENCES district(code),
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CONSTRAINT uq_park_source UNIQUE (district_code, source, source_id)
);
CREATE INDEX ix_park_geom ON park USING gist (geom);
CREATE INDEX ix_park_district ON park (district_code);

ALTER TABLE water ADD COLUMN source varchar(32), ADD COLUMN source_id varchar(64),
    ADD CONSTRAINT uq_water_source UNIQUE (district_code, source, source_id);
"""

DOWNGRADE = """
ALTER TABLE water DROP CONSTRAINT IF EXISTS uq_water_source,
    DROP COLUMN IF EXISTS source, DROP COLUMN IF EXISTS source_id;
DROP TABLE IF EXISTS park;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

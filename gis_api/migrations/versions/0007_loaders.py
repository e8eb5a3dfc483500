"""Parks (no-household zones and planning barriers, like water) and source keys for reloadable layers.

`park` holds leisure=park / landuse=grass|recreation_ground… polygons; `district_code` is nullable
until the districts work wires every layer to its district. `water` gains the same (source,
source_id) key as `building`, so `wangge load water` and `wangge osm import` can reload a file
without duplicating lakes; the demo's water rows keep NULL keys (NULLs never collide).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE park (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL DEFAULT '',
    kind varchar(32) NOT NULL,
    source varchar(32),
    source_id varchar(64),
    district_code varchar(6),
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CONSTRAINT uq_park_source UNIQUE (source, source_id)
);
CREATE INDEX ix_park_geom ON park USING gist (geom);

ALTER TABLE water ADD COLUMN source varchar(32), ADD COLUMN source_id varchar(64),
    ADD CONSTRAINT uq_water_source UNIQUE (source, source_id);
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

"""Least privilege and the calendar's edge: QGIS views of the active plan, audit_log append-only,
deadlines computed past the working calendar's coverage flagged on the case.

The roles and their grants are not part of the schema: gis_api.db.roles applies them after every
migration (and `wangge db roles` on an external server), so tables added later get them too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
-- a deadline counted past the last year whose holiday schedule the calendar holds: shown, not hidden
ALTER TABLE incident ADD COLUMN deadline_uncertain boolean NOT NULL DEFAULT false;

-- the audit log is append-only like case_event; the only change allowed is the foreign key's own
-- ON DELETE SET NULL when an account is deleted (the row keeps the username)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
       AND to_jsonb(NEW) - 'user_id' = to_jsonb(OLD) - 'user_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER tr_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- what the read-only (QGIS) role sees: each district's active plan (through the views that own
-- "the active plan", 0006), its boundaries, buildings, roads, water and parks, each row with its district so
-- one layer filter shows one district; never households, accounts or cases. The views run with
-- their owner's rights, so the role needs no grant on the tables behind them.
CREATE SCHEMA qgis;
CREATE VIEW qgis.city AS SELECT code, name FROM public.city;
CREATE VIEW qgis.district AS
    SELECT code, name, city_code, metric_crs, geom FROM public.district;
CREATE VIEW qgis.data_layer AS
    SELECT district_code, layer, synthetic, source, licence, loaded_at FROM public.data_layer;
CREATE VIEW qgis.street AS SELECT code, name, district_code, geom FROM public.street;
CREATE VIEW qgis.community AS
    SELECT id, code, name, street_code, district_code, households, geom FROM public.active_community;
CREATE VIEW qgis.grid AS
    SELECT id, code, name, community_code, street_code, district_code, households, geom
    FROM public.active_grid;
CREATE VIEW qgis.building AS
    SELECT id, kind, levels, households, district_code, geom FROM public.building;
CREATE VIEW qgis.road_edge AS
    SELECT id, source, target, name, road_class, oneway, length_m, speed_kmh, district_code, geom
    FROM public.road_edge;
CREATE VIEW qgis.road_node AS SELECT id, component, district_code, geom FROM public.road_node;
CREATE VIEW qgis.water AS SELECT id, name, kind, district_code, geom FROM public.water;
CREATE VIEW qgis.park AS SELECT id, name, kind, district_code, geom FROM public.park;
"""

DOWNGRADE = """
DROP SCHEMA IF EXISTS qgis CASCADE;
DROP TRIGGER IF EXISTS tr_audit_log_append_only ON audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
ALTER TABLE incident DROP COLUMN IF EXISTS deadline_uncertain;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

"""Accounts linked to team members, the bounded live-event table, and resident survey records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
-- a grid worker's login is the team member whose pings, visits and cases it owns
ALTER TABLE app_user ADD COLUMN team_member_id integer UNIQUE
    REFERENCES team_member(id) ON DELETE SET NULL;

-- every case transition and position change, kept for a while so SSE clients can resume;
-- tx / snapshot_xmin let a resume also replay events whose transaction committed out of id order
CREATE TABLE live_event (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    kind varchar(16) NOT NULL CHECK (kind IN ('case', 'position')),
    case_id bigint,
    member_id integer,
    grid_code varchar(20) NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
    snapshot_xmin xid8 NOT NULL DEFAULT pg_snapshot_xmin(pg_current_snapshot())
);
CREATE INDEX ix_live_event_at ON live_event (at);

-- 入户调查: a resident's trust (信任度) and satisfaction (满意度) with their grid worker, 1..5
CREATE TABLE survey_response (
    id bigserial PRIMARY KEY,
    grid_id integer REFERENCES grid(id) ON DELETE SET NULL,
    grid_code varchar(20) NOT NULL,
    member_id integer REFERENCES team_member(id) ON DELETE SET NULL,
    household_id bigint REFERENCES household(id) ON DELETE SET NULL,
    surveyed_at timestamptz NOT NULL,
    trust smallint NOT NULL CHECK (trust BETWEEN 1 AND 5),
    satisfaction smallint NOT NULL CHECK (satisfaction BETWEEN 1 AND 5),
    note text NOT NULL DEFAULT '',
    recorded_by integer REFERENCES app_user(id) ON DELETE SET NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_survey_response_grid ON survey_response (grid_code, surveyed_at);
CREATE INDEX ix_incident_created ON incident (created_at);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_incident_created;
DROP TABLE IF EXISTS survey_response, live_event;
ALTER TABLE app_user DROP COLUMN IF EXISTS team_member_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

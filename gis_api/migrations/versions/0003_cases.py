"""Cases (案卷) with their append-only event log, field-worker position pings and household visits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE incident (
    id bigserial PRIMARY KEY,
    category_code varchar(16) NOT NULL,
    categories_version varchar(64) NOT NULL,
    description text NOT NULL DEFAULT '',
    state varchar(16) NOT NULL DEFAULT 'reported' CHECK (state IN ('reported', 'accepted',
        'registered', 'dispatched', 'in_progress', 'disposed', 'verified', 'closed', 'returned',
        'suspended', 'void')),
    -- the area codes at registration time: stable even after the active plan changes
    grid_id integer REFERENCES grid(id) ON DELETE SET NULL,
    grid_code varchar(20) NOT NULL,
    community_code varchar(12) NOT NULL,
    street_code varchar(9) NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    reporter varchar(128) NOT NULL DEFAULT '',
    reporter_user_id integer REFERENCES app_user(id) ON DELETE SET NULL,
    source varchar(16) NOT NULL CHECK (source IN ('api', 'open311', 'patrol')),
    idempotency_key varchar(128),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    stage varchar(16) CHECK (stage IN ('accept', 'register', 'dispatch', 'dispose', 'verify', 'close')),
    stage_deadline timestamptz,
    paused_remaining_s double precision,
    deadlines jsonb NOT NULL DEFAULT '{}'::jsonb,
    supervised boolean NOT NULL DEFAULT false,
    escalation_level varchar(16) NOT NULL DEFAULT 'community'
        CHECK (escalation_level IN ('community', 'street', 'district')),
    escalated_at timestamptz,
    assigned_member_id integer REFERENCES team_member(id) ON DELETE SET NULL,
    dispatch_explanation jsonb,
    extensions_granted smallint NOT NULL DEFAULT 0 CHECK (extensions_granted >= 0),
    extension_requested_hours double precision,
    rework_count smallint NOT NULL DEFAULT 0 CHECK (rework_count >= 0),
    suspended_from varchar(16),
    suspended_at timestamptz,
    closed_at timestamptz,
    rating smallint CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT uq_incident_idempotency_key UNIQUE (idempotency_key),
    CHECK (left(grid_code, 12) = community_code AND left(community_code, 9) = street_code)
);
CREATE INDEX ix_incident_geom ON incident USING gist (geom);
CREATE INDEX ix_incident_state ON incident (state);
CREATE INDEX ix_incident_grid_code ON incident (grid_code);
CREATE INDEX ix_incident_assigned ON incident (assigned_member_id);
CREATE INDEX ix_incident_open_deadline ON incident (stage_deadline)
    WHERE state NOT IN ('closed', 'void');

CREATE TABLE case_event (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES incident(id) ON DELETE RESTRICT,
    at timestamptz NOT NULL DEFAULT now(),
    actor varchar(64) NOT NULL,
    actor_user_id integer REFERENCES app_user(id) ON DELETE SET NULL,
    role varchar(32) NOT NULL,
    action varchar(32) NOT NULL,
    from_state varchar(16),
    to_state varchar(16) NOT NULL,
    note text NOT NULL DEFAULT '',
    media jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(media) = 'array'),
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom geometry(Point, 4326)
);
CREATE INDEX ix_case_event_case ON case_event (case_id, id);
CREATE INDEX ix_case_event_at ON case_event (at);

-- the event log is append-only: history cannot be rewritten, even by the application
CREATE FUNCTION case_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_event is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER tr_case_event_append_only BEFORE UPDATE OR DELETE ON case_event
    FOR EACH ROW EXECUTE FUNCTION case_event_append_only();

CREATE TABLE position_ping (
    id bigserial PRIMARY KEY,
    member_id integer NOT NULL REFERENCES team_member(id) ON DELETE CASCADE,
    device_time timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    accuracy_m real CHECK (accuracy_m IS NULL OR accuracy_m >= 0),
    geom geometry(Point, 4326) NOT NULL,
    -- a retried batch re-sends the same pings: (member, device time) identifies a fix
    CONSTRAINT uq_position_ping_member_id UNIQUE (member_id, device_time)
);
CREATE INDEX ix_position_ping_geom ON position_ping USING gist (geom);
CREATE INDEX ix_position_ping_time ON position_ping (device_time);

CREATE TABLE visit (
    id bigserial PRIMARY KEY,
    member_id integer NOT NULL REFERENCES team_member(id) ON DELETE CASCADE,
    household_id bigint REFERENCES household(id) ON DELETE SET NULL,
    grid_id integer REFERENCES grid(id) ON DELETE SET NULL,
    visited_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    note text NOT NULL DEFAULT '',
    satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    geom geometry(Point, 4326),
    CONSTRAINT uq_visit_member_id UNIQUE (member_id, household_id, visited_at)
);
CREATE INDEX ix_visit_household ON visit (household_id, visited_at);
CREATE INDEX ix_visit_grid ON visit (grid_id, visited_at);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS visit, position_ping, case_event, incident CASCADE;
DROP FUNCTION IF EXISTS case_event_append_only();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

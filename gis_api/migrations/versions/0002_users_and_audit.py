"""Accounts with role and area scope; audit log of personal-data reads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE app_user (
    id serial PRIMARY KEY,
    username varchar(64) NOT NULL,
    password_hash text NOT NULL,
    role varchar(32) NOT NULL CHECK (role IN ('admin', 'district_operator', 'street_operator',
        'community_operator', 'grid_worker', 'planner')),
    scope_code varchar(20) NOT NULL CHECK (scope_code ~ '^[0-9]{6}([0-9]{3}|[0-9]{6}|[0-9]{7,14})?$'),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_app_user_username UNIQUE (username)
);

-- append-only: who read which personal data (or was refused), when, and how many rows
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    user_id integer REFERENCES app_user(id) ON DELETE SET NULL,
    username varchar(64) NOT NULL,
    role varchar(32) NOT NULL,
    action varchar(64) NOT NULL,
    scope_code varchar(20) NOT NULL,
    target text NOT NULL DEFAULT '',
    count integer NOT NULL DEFAULT 0 CHECK (count >= 0)
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_audit_log_user ON audit_log (user_id, at);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS audit_log, app_user CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

"""Security: public cases, Open311 API keys, rate limits and login lockout shared by every API
process, refresh tokens and token versions, who uploaded which photo, client address in the audit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
-- only public cases reach the Open311 feed: residents' reports by default, others when an operator says so
ALTER TABLE incident ADD COLUMN public boolean NOT NULL DEFAULT false;
UPDATE incident SET public = true WHERE source = 'open311';

-- one key per Open311 channel (a WeChat mini program, the residents' page); only the SHA-256 is kept
CREATE TABLE api_key (
    id serial PRIMARY KEY,
    name varchar(64) NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,48}$'),
    key_hash char(64) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- token buckets (Open311 posts, login attempts) shared by every API process and worker
CREATE TABLE rate_bucket (
    key varchar(200) PRIMARY KEY,
    tokens double precision NOT NULL,
    at timestamptz NOT NULL,
    allowed boolean NOT NULL DEFAULT true
);
CREATE INDEX ix_rate_bucket_at ON rate_bucket (at);

-- failed logins per username and per client address; locked_until grows with each failure past the limit
CREATE TABLE login_failure (
    key varchar(200) PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);

-- rotating refresh tokens (only their SHA-256 is stored); a family is one login on one device
CREATE TABLE refresh_token (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    family varchar(32) NOT NULL,
    token_hash char(64) NOT NULL UNIQUE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX ix_refresh_token_user ON refresh_token (user_id);
CREATE INDEX ix_refresh_token_family ON refresh_token (family);

-- bumped when an account is disabled: every token issued before stops working for good
ALTER TABLE app_user ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- who uploaded a photo (content-addressed, so one file may have several uploaders)
CREATE TABLE media_upload (
    id bigserial PRIMARY KEY,
    digest char(64) NOT NULL,
    user_id integer REFERENCES app_user(id) ON DELETE SET NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_media_upload UNIQUE (digest, user_id)
);

-- photo reads check which cases cite a photo
CREATE INDEX ix_case_event_media ON case_event USING gin (media jsonb_path_ops);

ALTER TABLE audit_log ADD COLUMN client_addr varchar(64);
"""

DOWNGRADE = """
ALTER TABLE audit_log DROP COLUMN IF EXISTS client_addr;
DROP INDEX IF EXISTS ix_case_event_media;
DROP TABLE IF EXISTS media_upload, refresh_token, login_failure, rate_bucket, api_key;
ALTER TABLE app_user DROP COLUMN IF EXISTS token_version;
ALTER TABLE incident DROP COLUMN IF EXISTS public;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

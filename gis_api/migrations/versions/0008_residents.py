"""Residents' channel: door labels, grid office phones, survey periods, the notification outbox.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
-- 门牌: the label at the household's door (unit-floor/room), as a register has it; synthetic in the demo
ALTER TABLE household ADD COLUMN door_label varchar(32);

-- the phone of the grid office a member staffs: a work number, public on the grid's notice board
ALTER TABLE team_member
    ADD COLUMN office_phone varchar(32),
    ADD COLUMN office_phone_synthetic boolean NOT NULL DEFAULT false;

-- resident surveys: 熟悉度 too, the assessment period (e.g. 2026Q4, Beijing time) and how it came in;
-- one answer per household and period (older duplicates keep period NULL and still count)
ALTER TABLE survey_response
    ADD COLUMN familiarity smallint CHECK (familiarity BETWEEN 1 AND 5),
    ADD COLUMN period varchar(8) CHECK (period ~ '^[0-9]{4}Q[1-4]$'),
    ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'operator' CHECK (channel IN ('operator', 'resident'));
UPDATE survey_response s SET period = p.period
FROM (
    SELECT id, to_char(surveyed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY"Q"Q') AS period,
           row_number() OVER (PARTITION BY household_id,
               to_char(surveyed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY"Q"Q') ORDER BY id) AS n
    FROM survey_response
) p
WHERE p.id = s.id AND p.n = 1;
CREATE UNIQUE INDEX uq_survey_household_period ON survey_response (household_id, period);

-- state changes of residents' reports to notify, written in the transaction of the change itself;
-- a worker delivers them (retries with backoff) and records the delivery once
CREATE TABLE notification_outbox (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
    event_id bigint NOT NULL REFERENCES case_event(id),
    kind varchar(32) NOT NULL DEFAULT 'case.state',
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    delivered_by varchar(64),
    failed_at timestamptz,
    last_error text NOT NULL DEFAULT '',
    CONSTRAINT uq_notification_outbox_event UNIQUE (event_id)
);
CREATE INDEX ix_notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
"""

DOWNGRADE = """
DROP TABLE IF EXISTS notification_outbox;
DROP INDEX IF EXISTS uq_survey_household_period;
ALTER TABLE survey_response DROP COLUMN IF EXISTS channel, DROP COLUMN IF EXISTS period,
    DROP COLUMN IF EXISTS familiarity;
ALTER TABLE team_member DROP COLUMN IF EXISTS office_phone_synthetic, DROP COLUMN IF EXISTS office_phone;
ALTER TABLE household DROP COLUMN IF EXISTS door_label;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

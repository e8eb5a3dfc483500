"""Workload and replay: synthetic historical cases are labelled, periods of cases are read by time.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = """
-- cases made by `wangge simulate --year` (a year to replay plans on): generated, never real reports
ALTER TABLE incident ADD COLUMN synthetic boolean NOT NULL DEFAULT false;
-- replay and workload read a district's cases of a period
CREATE INDEX ix_incident_created_at ON incident (created_at);
"""
DOWNGRADE = """
DROP INDEX IF EXISTS ix_incident_created_at;
-- without the column nothing would tell generated cases from real ones: remove them (they have no events)
DELETE FROM incident i WHERE i.synthetic AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = i.id);
ALTER TABLE incident DROP COLUMN synthetic;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

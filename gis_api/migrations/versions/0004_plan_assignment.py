"""Household → grid assignment stored with each plan (buildings may be split across grids).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE plan_assignment (
    plan_id integer NOT NULL REFERENCES plan(id) ON DELETE CASCADE,
    household_id bigint NOT NULL REFERENCES household(id) ON DELETE CASCADE,
    grid_id integer NOT NULL REFERENCES grid(id) ON DELETE CASCADE,
    PRIMARY KEY (plan_id, household_id)
);
CREATE INDEX ix_plan_assignment_grid ON plan_assignment (grid_id);
"""

DOWNGRADE = "DROP TABLE IF EXISTS plan_assignment;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

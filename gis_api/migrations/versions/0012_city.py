"""City scale: indexes that keep the command centre's counters fast over months of a city's cases.

A city-wide operator sees every case of 13 districts (about 190,000 a month in Wuhan). The open
and overdue counters read only the open cases through a partial index on them (by area code, so
a district or street scope is a range of it), and "closed today" reads the day's closures through
a partial index on closed_at, instead of scanning every case of the scope.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE INDEX ix_incident_open_area ON incident (grid_code) WHERE state NOT IN ('closed', 'void');
CREATE INDEX ix_incident_closed_at ON incident (closed_at) WHERE state = 'closed';
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_incident_closed_at;
DROP INDEX IF EXISTS ix_incident_open_area;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

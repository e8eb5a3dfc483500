"""Covering indexes for the KPIs' grid-worker facts at city scope (gis_api/cases/kpi_facts.py).

A city's street KPIs read every active grid of the city (code, id) and every grid worker's home
grid. Grid rows are wide (their polygon): the covering index reads about a tenth of the pages the
table holds; grid workers by home grid likewise (index-only scans, measured in bench/city_kpi.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE INDEX ix_grid_plan_code_id ON grid (plan_id, code) INCLUDE (id);
CREATE INDEX ix_team_member_grid_worker ON team_member (home_grid_id, id) WHERE role = 'grid_worker';
"""
DOWNGRADE = """
DROP INDEX IF EXISTS ix_team_member_grid_worker;
DROP INDEX IF EXISTS ix_grid_plan_code_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

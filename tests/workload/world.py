"""The tiny district with the ladder's roads and hand-placed cases, for workload and replay tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from gis_api.plans.service import update_household_counts
from tests import tiny_district
from tests.routing import ladder

BEIJING = ZoneInfo("Asia/Shanghai")
GRIDS = ("42010600100101", "42010600100102", "42010600200101", "42010600200102")
"""Tiny district grids: west street south/north, east street south/north (0.01° × 0.01° each)."""
CASE_SQL = """
INSERT INTO incident (category_code, categories_version, state, grid_code, community_code, street_code,
                      geom, source, created_at, synthetic)
VALUES (:code, 'test', 'closed', :grid, left(:grid, 12), left(:grid, 9),
        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'patrol', :at, true)
RETURNING id
"""


def build(connection: Connection) -> dict[str, int]:
    """Tiny district (active plan, 4 grids of 1 household), ladder roads, grid counts set."""
    ids = tiny_district.build(connection)
    ladder.build(connection)
    update_household_counts(connection, ids["plan"])
    return ids


def add_case(connection: Connection, code: str, lon: float, lat: float, at: datetime, grid: str) -> int:
    """A closed case at (lon, lat) reported at `at`, registered in `grid` (codes as then)."""
    row = {"code": code, "grid": grid, "lon": lon, "lat": lat, "at": at}
    return int(connection.execute(text(CASE_SQL), row).scalar_one())


def add_draft(connection: Connection) -> int:
    """A draft of the tiny district: one community per street, each street ONE grid (west, east)."""
    plan = connection.execute(
        text(
            "INSERT INTO plan (name, status, district_code) VALUES ('draft', 'draft', '420106') RETURNING id"
        )
    ).scalar_one()
    for street, west in (("420106001", 114.30), ("420106002", 114.31)):
        geom = tiny_district.box(west, 30.54, west + 0.01, 30.56)
        community = connection.execute(
            text(
                "INSERT INTO community (plan_id, code, name, street_code, geom) "
                "VALUES (:p, :c, 'c', :s, :g) RETURNING id"
            ),
            {"p": plan, "c": street + "001", "s": street, "g": geom},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO grid (plan_id, code, name, community_id, geom, households) "
                "VALUES (:p, :c, 'g', :ci, :g, 2)"
            ),
            {"p": plan, "c": street + "00101", "ci": community, "g": geom},
        )
    return int(plan)


def add_worker(connection: Connection, name: str, grid_id: int) -> int:
    return int(
        connection.execute(
            text(
                "INSERT INTO team_member (name, role, home_grid_id) "
                "VALUES (:n, 'grid_worker', :g) RETURNING id"
            ),
            {"n": name, "g": grid_id},
        ).scalar_one()
    )

"""The grid-worker facts summed per unit in the database (gis_api.cases.kpi_facts) give the figures
the per-grid computation before them gave (tests/cases/kpi_before.py): households, visited
households, workers and their patrol days, survey and visit scores, for every scope, level and
period, including the edges (a grid without households, a worker patrolling more days than the
period has working days, a weekend, visits outside the window)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.calendar import default_calendar
from gis_api.cases.kpi import Period, kpi_table
from gis_api.cases.kpi_facts import working_days
from tests.cases import kpi_before
from tests.cases.fixtures import GRID_EAST, GRID_NW, GRID_SW, World
from tests.cases.test_kpi import CN, month
from tests.cases.test_kpi_store import PERIODS, SCOPES, months

__all__ = ["month", "months"]  # the fixtures of three months of cases, reused

EMPTY_GRID = "42010600100103"
"""A grid of the west community with a grid worker, a survey and a visit, but no households."""
WEEKEND = Period(datetime(2026, 3, 7, tzinfo=CN), datetime(2026, 3, 9, tzinfo=CN))
SAT_TO_TUE = Period(datetime(2026, 3, 7, tzinfo=CN), datetime(2026, 3, 11, tzinfo=CN))
FACT_PERIODS = {**PERIODS, "weekend": WEEKEND, "sat_to_tue": SAT_TO_TUE}


def add_household(session: Session, household_id: int, grid_code: str) -> int:
    session.execute(
        text(
            "INSERT INTO household (id, residents, grid_id, geom, district_code) "
            "SELECT :i, 2, g.id, ST_PointOnSurface(g.geom), '420106' FROM grid g WHERE g.code = :c"
        ),
        {"i": household_id, "c": grid_code},
    )
    return household_id


def visit(
    session: Session, member: int, household: int | None, grid: str, at: datetime, score: int | None
) -> None:
    session.execute(
        text(
            "INSERT INTO visit (member_id, household_id, grid_id, visited_at, satisfaction) "
            "SELECT :m, :h, g.id, :t, :s FROM grid g WHERE g.code = :c"
        ),
        {"m": member, "h": household, "c": grid, "t": at, "s": score},
    )


def survey(session: Session, grid: str, at: datetime, trust: int, satisfied: int, known: int | None) -> None:
    session.execute(
        text(
            "INSERT INTO survey_response (grid_code, surveyed_at, trust, satisfaction, familiarity) "
            "VALUES (:c, :t, :tr, :s, :f)"
        ),
        {"c": grid, "t": at, "tr": trust, "s": satisfied, "f": known},
    )


def ping(session: Session, member: int, at: datetime, grid: str) -> None:
    session.execute(
        text(
            "INSERT INTO position_ping (member_id, device_time, geom) "
            "SELECT :m, :t, ST_PointOnSurface(g.geom) FROM grid g WHERE g.code = :c"
        ),
        {"m": member, "t": at, "c": grid},
    )


def day(month: int, number: int, hour: int = 10) -> datetime:
    return datetime(2026, month, number, hour, tzinfo=CN)


@pytest.fixture
def facts(db_session: Session, months: World) -> World:
    """Visits, surveys and pings across grids and months on top of the cases of `months`."""
    session = db_session
    session.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, geom) "
            "SELECT plan_id, :c, '第03网格', community_id, ST_Translate(geom, 0, 0.02) "
            "FROM grid WHERE code = :sw"
        ),
        {"c": EMPTY_GRID, "sw": GRID_SW},
    )
    lonely = session.execute(
        text(
            "INSERT INTO team_member (name, role, home_grid_id, status) "
            "SELECT '网格员庚', 'grid_worker', id, 'available' FROM grid WHERE code = :c RETURNING id"
        ),
        {"c": EMPTY_GRID},
    ).scalar_one()
    members = months.members
    sw = [add_household(session, n, GRID_SW) for n in (901, 902, 903)]
    east = add_household(session, 904, GRID_EAST)
    for n, household in enumerate(sw):
        visit(session, members["worker"], household, GRID_SW, day(3, 3 + n), 4)
        visit(session, members["worker"], household, GRID_SW, day(3, 20 + n), None)  # the same household
    visit(session, members["east"], east, GRID_EAST, day(2, 10), 2)  # before March's window
    visit(session, members["east"], east, GRID_EAST, day(4, 8), 5)
    visit(session, lonely, None, EMPTY_GRID, day(3, 9), 1)
    for n, (grid, known) in enumerate([(GRID_SW, 5), (GRID_SW, 2), (GRID_NW, None), (GRID_EAST, 3)]):
        survey(session, grid, day(3, 10 + n), 1 + n, 5 - n, known)
    survey(session, EMPTY_GRID, day(3, 12), 1, 1, 1)
    survey(session, GRID_EAST, day(4, 2), 5, 4, 4)
    for when in (day(3, 7), day(3, 8), day(3, 9), day(3, 9, 16), day(3, 10)):
        ping(session, members["worker"], when, GRID_SW)
        ping(session, members["neighbour"], when, GRID_NW)
    ping(session, members["east"], day(3, 9), GRID_SW)  # outside the home grid: no patrol
    ping(session, lonely, day(3, 9), EMPTY_GRID)
    ping(session, members["off_duty"], day(4, 7), GRID_SW)
    return months


def test_unit_facts_equal_the_per_grid_computation(db_session: Session, facts: World) -> None:
    compared = 0
    for principal in SCOPES.values():
        for level in ("street", "community", "grid", "worker"):
            for period in FACT_PERIODS.values():
                for window in (30, 3):  # familiarity days: all of March's visits, or only some
                    new = kpi_table(db_session, principal, level, period, window).model_dump()
                    old = kpi_before.kpi_table(db_session, principal, level, period, window).model_dump()
                    assert new == old, (principal.scope_code, level, period, window)
                    compared += sum(1 for row in new["rows"] if row["trust"] is not None)
    assert compared > 50  # rows with survey figures were compared, not only empty ones


def test_the_edges_the_facts_cover(db_session: Session, facts: World) -> None:
    assert working_days(WEEKEND.start, WEEKEND.end, default_calendar()) == 0
    assert working_days(SAT_TO_TUE.start, SAT_TO_TUE.end, default_calendar()) == 2
    weekend = {row.code: row for row in kpi_table(db_session, SCOPES["district"], "worker", WEEKEND).rows}
    assert {row.patrol_coverage for row in weekend.values()} == {None}
    workers = {row.code: row for row in kpi_table(db_session, SCOPES["district"], "worker", SAT_TO_TUE).rows}
    worker = str(facts.members["worker"])
    assert workers[worker].patrol_coverage == 1.0  # 4 days with pings, capped at the 2 working days
    grids = {
        row.code: row for row in kpi_table(db_session, SCOPES["district"], "grid", PERIODS["months"]).rows
    }
    assert EMPTY_GRID in grids and grids[EMPTY_GRID].trust is None  # no households: its survey is not read
    streets = {r.code: r for r in kpi_table(db_session, SCOPES["city"], "street", PERIODS["months"]).rows}
    assert streets["420106001"].trust == round((4 + 1 + 2 + 3) / 4 / 5, 4)  # fixture's 4 + SW 1, 2 + NW 3

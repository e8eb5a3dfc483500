"""Stored case tallies (migration 0015) give the KPIs and the ranking the computation before them
gave (tests/cases/kpi_before.py), for every scope, level and kind of period, and follow changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.cases import ranking
from gis_api.cases.dispatch import dispatch_case
from gis_api.cases.kpi import Period, kpi_table, rate_case
from gis_api.cases.kpi_store import TALLIES, drift, rebuild, slices
from gis_api.cases.ranking import street_ranking
from gis_api.cases.service import escalate_overdue, transition_case
from gis_api.cases.workflow import STAGE_OF_STATE
from gis_api.simulate.history import write_history
from tests.cases import kpi_before
from tests.cases.fixtures import World
from tests.cases.test_kpi import CN, OP, month, report, run
from tests.security.api_world import EAST_INCIDENT

__all__ = ["month"]  # the March fixture of test_kpi, used here as the middle month

KEY_COLUMNS = ("grid_code", "community_code", "street_code", "member_id")
SCOPES = {
    "city": Principal(9, "city", Role.CITY_OPERATOR, "4201"),
    "district": Principal(1, "op", Role.DISTRICT_OPERATOR, "420106"),
    "street": Principal(3, "west", Role.STREET_OPERATOR, "420106001"),
    "community": Principal(4, "west1", Role.COMMUNITY_OPERATOR, "420106001001"),
}
LEVELS = ("street", "community", "grid", "worker")
PERIODS = {
    "months": Period(datetime(2026, 2, 1, tzinfo=CN), datetime(2026, 5, 1, tzinfo=CN)),
    "mixed": Period(datetime(2026, 2, 27, 22, tzinfo=CN), datetime(2026, 4, 10, 15, 30, tzinfo=CN)),
    "hours": Period(datetime(2026, 3, 2, 8, tzinfo=CN), datetime(2026, 3, 2, 12, 30, tzinfo=CN)),
    "days": Period(datetime(2026, 3, 2, tzinfo=CN), datetime(2026, 3, 5, tzinfo=CN)),
    "utc_month": Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
}


def when(month_day: tuple[int, int], hour: int, minute: int = 0) -> datetime:
    return datetime(2026, *month_day, hour, minute, tzinfo=CN)


@pytest.fixture
def months(connection: Connection, db_session: Session, month: World) -> World:
    """March (test_kpi's month) plus cases either side of its edges, in both streets."""
    from gis_api.routing.engine import RoadGraph

    graph = RoadGraph.from_connection(connection)
    late_feb = report(db_session, when((2, 27), 23, 30))
    intake = [("accept", when((2, 27), 23, 40)), ("register", when((2, 28), 9))]
    intake.append(("dispatch", when((2, 28), 10)))
    run(db_session, late_feb, [*intake, ("start", when((3, 1), 9)), ("dispose", when((3, 1), 10))], graph)
    run(db_session, late_feb, [("verify", when((3, 2), 9)), ("close", when((3, 2), 10))], graph)
    east_feb = report(db_session, when((2, 28), 10), EAST_INCIDENT)
    transition_case(db_session, east_feb, "accept", OP, now=when((2, 28), 11))
    last_march = report(db_session, when((3, 31), 23, 50))
    run(db_session, last_march, [("accept", when((4, 1), 8)), ("register", when((4, 1), 9))], graph)
    dispatch_case(db_session, last_march, OP, now=when((4, 1), 10), graph=graph)
    first_april = report(db_session, when((4, 1), 0, 5))
    steps = [("accept", when((4, 1), 1)), ("register", when((4, 1), 2)), ("dispatch", when((4, 1), 3))]
    run(db_session, first_april, steps, graph)
    run(db_session, first_april, [("start", when((4, 1), 4)), ("dispose", when((4, 1), 5))], graph)
    run(db_session, first_april, [("verify", when((4, 1), 6)), ("close", when((4, 1), 7))], graph)
    rate_case(db_session, first_april, OP, 4)
    voided = report(db_session, when((4, 10), 15), EAST_INCIDENT)
    transition_case(db_session, voided, "void", OP, now=when((4, 10), 15, 5))
    open_east = report(db_session, when((4, 10), 16), EAST_INCIDENT)
    transition_case(db_session, open_east, "accept", OP, now=when((4, 10), 16, 30))
    escalate_overdue(db_session, when((4, 20), 9))
    return month


def both(session: Session, principal: Principal, level: str, period: Period) -> tuple[dict, dict]:
    new = kpi_table(session, principal, level, period).model_dump()
    old = kpi_before.kpi_table(session, principal, level, period).model_dump()
    return new, old


def assert_all_equal(session: Session) -> int:
    """Every scope × level × period: the stored path equals the old computation; rows compared."""
    compared = 0
    for principal in SCOPES.values():
        for level in LEVELS:
            for period in PERIODS.values():
                new, old = both(session, principal, level, period)
                assert new == old, (principal.scope_code, level, period)
                compared += sum(row["cases_reported"] for row in new["rows"])
    return compared


def old_ranking(
    session: Session, principal: Principal, period: Period, monkeypatch: pytest.MonkeyPatch
) -> ranking.Ranking:
    with monkeypatch.context() as patched:
        patched.setattr(ranking, "kpi_table", kpi_before.kpi_table)
        return street_ranking(session, principal, period)


def test_stored_tallies_equal_the_old_computation(db_session: Session, months: World) -> None:
    assert assert_all_equal(db_session) > 100  # cases were counted, not empty tables compared
    west = {r.code: r for r in kpi_table(db_session, SCOPES["district"], "street", PERIODS["mixed"]).rows}
    assert west["420106001"].cases_reported == 6 and west["420106001"].cases_closed == 4


def test_ranking_equals_the_old_computation(
    db_session: Session, months: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for principal in (SCOPES["city"], SCOPES["district"], SCOPES["street"]):
        for name in ("2026-02", "2026-03", "2026-04"):
            period = Period.month(name)
            new = street_ranking(db_session, principal, period).model_dump()
            assert new == old_ranking(db_session, principal, period, monkeypatch).model_dump()
    march = street_ranking(db_session, SCOPES["district"], Period.month("2026-03"))
    assert [row.street_code for row in march.rows] == ["420106001", "420106002"]


def _west(session: Session) -> dict:
    rows = kpi_table(session, SCOPES["district"], "street", PERIODS["months"]).rows
    return next(row for row in rows if row.code == "420106001").model_dump()


def _open_west_case(session: Session) -> int:
    found = "SELECT min(id) FROM incident WHERE state = 'dispatched' AND street_code = '420106001'"
    return int(session.execute(text(found)).scalar_one())


@pytest.mark.parametrize(
    "change",
    [
        lambda s, case: transition_case(s, case, "start", OP, now=when((4, 2), 9)),
        lambda s, case: s.execute(text("UPDATE incident SET state = 'void' WHERE id = :i"), {"i": case}),
        lambda s, case: s.execute(
            text("UPDATE incident SET assigned_member_id = NULL, extensions_granted = 1 WHERE id = :i"),
            {"i": case},
        ),
    ],
    ids=["transition", "voided", "columns"],
)
def test_figures_follow_a_change(
    db_session: Session, months: World, change: Callable[[Session, int], object]
) -> None:
    before = _west(db_session)
    change(db_session, _open_west_case(db_session))
    after = _west(db_session)
    assert after != before
    assert assert_all_equal(db_session) > 0


def test_a_case_closing_moves_the_figures_of_its_month(db_session: Session, months: World) -> None:
    from gis_api.routing.engine import RoadGraph

    case = _open_west_case(db_session)
    closed_before = _west(db_session)["cases_closed"]
    graph = RoadGraph.from_connection(db_session.connection())
    steps = [("start", when((4, 2), 9)), ("dispose", when((4, 2), 10)), ("verify", when((4, 2), 11))]
    run(db_session, case, [*steps, ("close", when((4, 2), 12))], graph)
    assert _west(db_session)["cases_closed"] == closed_before + 1
    assert assert_all_equal(db_session) > 0


def test_sums_in_another_zone_fall_back_to_the_cases(db_session: Session, months: World) -> None:
    db_session.execute(text("UPDATE case_kpi_setting SET zone = 'UTC'"))
    assert assert_all_equal(db_session) > 100


def test_bulk_history_is_counted_once_at_the_end(connection: Connection) -> None:
    from tests import tiny_district

    tiny_district.build(connection)
    now = datetime(2026, 11, 20, 6, tzinfo=UTC)
    write_history(connection, prefix="4201", days=70, cases=300, now=now, rng=np.random.default_rng(5))
    stored = connection.execute(text("SELECT count(*) FROM case_kpi")).scalar_one()
    counted = connection.execute(text("SELECT count(*) FROM incident WHERE state <> 'void'")).scalar_one()
    assert stored == counted > 250
    month_sum = connection.execute(text("SELECT sum(cases) FROM case_kpi_month")).scalar_one()
    assert month_sum == counted
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    period = Period(now - timedelta(days=45, hours=5), now)
    for level in LEVELS:
        new, old = both(session, SCOPES["district"], level, period)
        assert new == old


def test_slices_cover_the_period_once() -> None:
    cut = slices(PERIODS["mixed"].start, PERIODS["mixed"].end, CN)
    assert cut.months == (datetime(2026, 3, 1).date(), datetime(2026, 4, 1).date())
    assert cut.days == [
        (datetime(2026, 2, 28).date(), datetime(2026, 3, 1).date()),
        (datetime(2026, 4, 1).date(), datetime(2026, 4, 10).date()),
    ]
    assert cut.moments == [
        (PERIODS["mixed"].start, when((2, 28), 0)),
        (when((4, 10), 0), PERIODS["mixed"].end),
    ]
    assert slices(PERIODS["hours"].start, PERIODS["hours"].end, CN).moments == [
        (PERIODS["hours"].start, PERIODS["hours"].end)
    ]


def test_stored_schema_matches_the_code(connection: Connection) -> None:
    stages = {str(a): str(b) for a, b in connection.execute(text("SELECT state, stage FROM case_stage"))}
    assert stages == {state.value: stage.value for state, stage in STAGE_OF_STATE.items()}
    columns = connection.execute(
        text("SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY 1"),
        {"t": "case_kpi"},
    ).scalars()
    assert set(columns) == {"case_id", "created_at", *KEY_COLUMNS, *TALLIES}


def test_check_finds_tampered_sums_and_rebuild_mends_them(db_session: Session, months: World) -> None:
    connection = db_session.connection()
    assert drift(connection).clean
    connection.execute(text("UPDATE case_kpi_month SET closed = closed + 1 WHERE cases > 0"))
    connection.execute(text("DELETE FROM case_kpi WHERE case_id = (SELECT min(case_id) FROM case_kpi)"))
    found = drift(connection)
    assert found.cases == 1 and found.sums["case_kpi_month"] > 0 and found.sums["case_kpi_day"] > 0
    assert rebuild(connection, "Asia/Shanghai") == 9  # the non-void cases of the fixture
    assert drift(connection).clean and assert_all_equal(db_session) > 100

"""Assessment figures on a hand-made month of cases, visits, surveys and pings (known answers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.cases.dispatch import dispatch_case
from gis_api.cases.kpi import Period, kpi_table, rate_case
from gis_api.cases.ranking import ranking_csv, ranking_html, street_ranking
from gis_api.cases.service import Actor, create_case, escalate_overdue, transition_case
from gis_api.errors import ConflictError, InvalidInputError
from gis_api.routing.engine import RoadGraph
from tests.cases import fixtures
from tests.cases.fixtures import GRID_EAST, GRID_NW, GRID_SW, INCIDENT, World
from tests.security.api_world import EAST_INCIDENT, Api

CN = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, tzinfo=CN)
MARCH = Period(datetime(2026, 3, 1, tzinfo=CN), datetime(2026, 4, 1, tzinfo=CN))
OP = Actor("op", "district_operator", scope_code="420106")
VERIFIER = Actor("checker", "community_operator", scope_code="420106001001")
"""Verifies what OP disposed (separation of duties)."""
DISTRICT = Principal(1, "op", Role.DISTRICT_OPERATOR, "420106")
WEST = "420106001"


def at(minutes: int, days: int = 0) -> datetime:
    return MONDAY + timedelta(days=days, minutes=minutes)


def report(session: Session, when: datetime, where: tuple[float, float] = INCIDENT) -> int:
    return create_case(session, category_code="E0201", lon=where[0], lat=where[1], actor=OP, now=when).case.id


def run(session: Session, case_id: int, steps: list[tuple[str, datetime]], graph: RoadGraph) -> None:
    for action, when in steps:
        if action == "dispatch":
            dispatch_case(session, case_id, OP, now=when, graph=graph)
        else:
            actor = VERIFIER if action in ("verify", "rework") else OP
            transition_case(session, case_id, action, actor, now=when)


@pytest.fixture
def month(connection: Connection, db_session: Session) -> World:
    """West street: A closed on time (rated 5), B reworked and closed late, C open, D void; east: E open."""
    world = fixtures.build(connection)
    graph = RoadGraph.from_connection(connection)
    off = [world.members[k] for k in ("volunteer", "cadre")]
    db_session.execute(text("UPDATE team_member SET status = 'off_duty' WHERE id = ANY(:i)"), {"i": off})
    a, b = report(db_session, at(0)), report(db_session, at(5))
    intake = [("accept", at(10)), ("register", at(20)), ("dispatch", at(30)), ("start", at(40))]
    run(db_session, a, [*intake, ("dispose", at(60)), ("verify", at(90)), ("close", at(100))], graph)
    run(db_session, b, [*intake, ("dispose", at(70)), ("rework", at(80)), ("dispose", at(120))], graph)
    run(db_session, b, [("verify", at(150))], graph)
    escalate_overdue(db_session, at(0, days=1))  # B's close stage is overdue by the next morning
    run(db_session, b, [("close", at(10, days=1))], graph)
    report(db_session, at(200))
    d = report(db_session, at(210))
    transition_case(db_session, d, "void", OP, now=at(215))
    report(db_session, at(220), EAST_INCIDENT)
    rate_case(db_session, a, OP, 5)
    _visits_surveys_pings(db_session, world)
    return world


def _visits_surveys_pings(session: Session, world: World) -> None:
    worker = world.members["worker"]
    household = session.execute(
        text("SELECT h.id FROM household h JOIN grid g ON g.id = h.grid_id WHERE g.code = :c"), {"c": GRID_SW}
    ).scalar_one()
    session.execute(
        text(
            "INSERT INTO visit (member_id, household_id, grid_id, visited_at, satisfaction) "
            "VALUES (:m, :h, :g, :t, 3)"
        ),
        {"m": worker, "h": household, "g": world.grid_ids[GRID_SW], "t": at(0, days=20)},
    )
    session.execute(
        text(
            "INSERT INTO survey_response (grid_code, member_id, household_id, surveyed_at, trust, "
            "satisfaction) VALUES (:c, :m, :h, :t, 4, 5)"
        ),
        {"c": GRID_SW, "m": worker, "h": household, "t": at(0, days=21)},
    )
    for days, minute, lat in (
        (1, 0, 30.545),
        (2, 0, 30.546),
        (2, 30, 30.547),
        (3, 0, 30.556),
    ):  # last: outside
        session.execute(
            text(
                "INSERT INTO position_ping (member_id, device_time, geom) "
                "VALUES (:m, :t, ST_SetSRID(ST_MakePoint(114.305, :y), 4326))"
            ),
            {"m": worker, "t": at(minute, days=days), "y": lat},
        )


def test_street_figures(db_session: Session, month: World) -> None:
    rows = {row.code: row for row in kpi_table(db_session, DISTRICT, "street", MARCH).rows}
    west, east = rows[WEST], rows["420106002"]
    assert (west.cases_reported, west.cases_registered, west.cases_closed) == (3, 2, 2)
    assert west.closure_rate == pytest.approx(2 / 3, abs=1e-4)
    assert west.on_time_closure_rate == pytest.approx(1 / 3, abs=1e-4)
    assert (west.rework_rate, west.extension_rate, west.implementation) == (0.5, 0.0, 0.5)
    hours = west.hours_per_stage
    assert hours["accept"] == pytest.approx(((10 / 60) + (5 / 60)) / 2, abs=1e-3)
    assert hours["dispose"] == pytest.approx(((30 / 60) + (80 / 60)) / 2, abs=1e-3)
    assert west.familiarity == 0.5  # SW's household visited, NW's not
    assert west.trust == 0.8
    assert west.satisfaction == pytest.approx((1.0 + 1.0 + 0.6) / 3, abs=1e-4)
    # three grid workers in the street (two in SW, one off duty); one patrolled 2 of March's 22 working days
    assert west.patrol_coverage == pytest.approx((2 / 22 + 0 + 0) / 3, abs=1e-4)
    assert (east.cases_reported, east.closure_rate, east.familiarity, east.trust) == (1, 0.0, 0.0, None)


def test_worker_and_grid_rows(db_session: Session, month: World) -> None:
    workers = {row.code: row for row in kpi_table(db_session, DISTRICT, "worker", MARCH).rows}
    mine = workers[str(month.members["worker"])]
    assert (mine.cases_reported, mine.cases_closed, mine.familiarity, mine.trust) == (2, 2, 1.0, 0.8)
    assert mine.patrol_coverage == pytest.approx(2 / 22, abs=1e-4)
    grids = {row.code: row for row in kpi_table(db_session, DISTRICT, "grid", MARCH).rows}
    assert set(grids) == {GRID_SW, GRID_NW, GRID_EAST, "42010600200102"}
    assert grids[GRID_NW].cases_reported == 0 and grids[GRID_NW].closure_rate is None
    scoped = Principal(2, "w", Role.GRID_WORKER, GRID_SW)
    assert [row.code for row in kpi_table(db_session, scoped, "grid", MARCH).rows] == [GRID_SW]


def test_ranking_csv_and_html(db_session: Session, month: World) -> None:
    ranking = street_ranking(db_session, DISTRICT, Period.month("2026-03"))
    assert [row.street_code for row in ranking.rows] == [WEST, "420106002"]
    assert ranking.rows[0].score > ranking.rows[1].score
    csv_text = ranking_csv(ranking)
    assert csv_text.startswith("\ufeff名次,区,街道代码,街道,综合得分,按期结案率")
    assert {(row.district_code, row.district_name) for row in ranking.rows} == {("420106", "武昌区")}
    assert f"1,武昌区,{WEST},积玉桥街道," in csv_text
    page = ranking_html(ranking)
    assert "<table>" in page and "2026-03 街道考核排名" in page and "杨园街道" in page


def test_rating_and_period_checks(db_session: Session, month: World) -> None:
    open_case = report(db_session, at(300))
    with pytest.raises(ConflictError, match="only a closed case can be rated"):
        rate_case(db_session, open_case, OP, 4)
    with pytest.raises(InvalidInputError, match="must be YYYY-MM"):
        Period.month("2026-13")
    with pytest.raises(InvalidInputError, match="is not after its start"):
        Period.of(MARCH.end, MARCH.start)


def test_assessment_over_http(api: Api) -> None:
    query = "start=2026-03-01T00:00:00%2B08:00&end=2026-04-01T00:00:00%2B08:00"
    table = api.as_("planner").get(f"/assessment/kpis?level=street&{query}")
    assert table.status_code == 200 and [r["code"] for r in table.json()["rows"]] == [WEST, "420106002"]
    mine = api.as_("west_worker").get(f"/assessment/kpis?level=grid&{query}").json()
    assert [r["code"] for r in mine["rows"]] == [GRID_SW]
    assert api.get(f"/assessment/kpis?level=planet&{query}").status_code == 422
    assert (
        api.get("/assessment/kpis?level=grid&start=2026-03-01T00:00:00&end=2026-04-01T00:00:00").status_code
        == 422
    )
    csv_response = api.get("/assessment/streets/ranking?month=2026-03&format=csv")
    assert csv_response.headers["content-type"].startswith("text/csv") and "名次" in csv_response.text
    html_response = api.get("/assessment/streets/ranking?month=2026-03&format=html")
    assert html_response.headers["content-type"].startswith("text/html") and "<table>" in html_response.text
    assert api.get("/assessment/streets/ranking?month=March").status_code == 422
    # tiny_district: household 2 lies in the west street's south grid
    survey = {"household_id": 2, "surveyed_at": "2026-03-05T10:00:00+08:00", "trust": 5, "satisfaction": 4}
    assert api.as_("west_op").post("/assessment/surveys", survey).status_code == 201
    assert api.as_("east_op").post("/assessment/surveys", survey).status_code == 404
    assert api.as_("west_worker").post("/assessment/surveys", survey).status_code == 403

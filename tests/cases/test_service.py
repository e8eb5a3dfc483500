"""Reporting, transitions with their event log, and escalation, against real PostGIS."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_api.cases.models import Case, CaseEvent
from gis_api.cases.service import Actor, create_case, escalate_overdue, transition_case
from gis_api.errors import ConflictError, InvalidInputError, NotFoundError, OutOfDistrictError
from gis_api.loaders.chinese_datums import from_wgs84
from tests.cases import fixtures
from tests.cases.fixtures import GRID_SW, INCIDENT, World

CN = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, tzinfo=CN)
OPERATOR = Actor("op_district", "district_operator", scope_code="420106")
COMMUNITY_OP = Actor("op_c", "community_operator", scope_code="420106001001")
WORKER = Actor("worker", "grid_worker", scope_code=GRID_SW)


@pytest.fixture
def world(connection: Connection) -> World:
    return fixtures.build(connection)


def report(session: Session, **overrides: object) -> Case:
    arguments: dict = {
        "category_code": "E0201",
        "lon": INCIDENT[0],
        "lat": INCIDENT[1],
        "actor": OPERATOR,
        "now": MONDAY_9,
        "description": "电线杆上的小广告",
    }
    arguments.update(overrides)
    return create_case(session, **arguments).case


def events(session: Session, case: Case) -> list[tuple[str, str | None, str]]:
    rows = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    return [(e.action, e.from_state, e.to_state) for e in rows]


def test_report_locates_grid_and_starts_accept_clock(db_session: Session, world: World) -> None:
    case = report(db_session)
    assert (case.grid_code, case.community_code, case.street_code) == (GRID_SW, GRID_SW[:12], GRID_SW[:9])
    assert case.grid_id == world.grid_ids[GRID_SW]
    assert case.state == "reported" and case.stage == "accept"
    assert case.stage_deadline == datetime(2026, 3, 2, 9, 30, tzinfo=CN)
    assert events(db_session, case) == [("report", None, "reported")]


def test_gcj02_input_is_converted(db_session: Session, world: World) -> None:
    lon, lat = from_wgs84("gcj02", [INCIDENT[0]], [INCIDENT[1]])
    case = report(db_session, lon=float(lon[0]), lat=float(lat[0]), crs="gcj02")
    x, y = db_session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM incident WHERE id = :i"), {"i": case.id}
    ).one()
    assert (x, y) == pytest.approx(INCIDENT, abs=1e-7)


def test_idempotency_key_returns_the_original(db_session: Session, world: World) -> None:
    first = create_case(
        db_session,
        category_code="E0201",
        lon=INCIDENT[0],
        lat=INCIDENT[1],
        actor=OPERATOR,
        idempotency_key="k-1",
    )
    again = create_case(
        db_session,
        category_code="E0201",
        lon=INCIDENT[0],
        lat=INCIDENT[1],
        actor=OPERATOR,
        idempotency_key="k-1",
    )
    assert first.created and not again.created and again.case.id == first.case.id
    assert db_session.scalar(text("SELECT count(*) FROM incident")) == 1


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"lon": 114.40, "lat": 30.60}, OutOfDistrictError, "outside every grid of the active plan"),
        ({"crs": "epsg:3857"}, InvalidInputError, "unknown CRS 'epsg:3857'"),
        ({"category_code": "E9999"}, InvalidInputError, "unknown category 'E9999'"),
        ({"lat": float("nan")}, InvalidInputError, "not a valid lon/lat pair"),
        ({"lat": 95.0}, InvalidInputError, "not a valid lon/lat pair"),
        ({"source": "fax"}, InvalidInputError, "unknown source 'fax'"),
        ({"idempotency_key": "x" * 129}, InvalidInputError, "Idempotency-Key must be 1 to 128"),
    ],
)
def test_bad_reports_write_nothing(
    db_session: Session, world: World, overrides: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        report(db_session, **overrides)
    assert db_session.scalar(text("SELECT count(*) FROM incident")) == 0


def test_transitions_are_logged_with_actor_note_media_position(db_session: Session, world: World) -> None:
    case = report(db_session)
    transition_case(db_session, case.id, "accept", COMMUNITY_OP, now=MONDAY_9, note="受理")
    transition_case(
        db_session,
        case.id,
        "void",
        OPERATOR,
        now=MONDAY_9,
        note="重复上报",
        media=["photo/1.jpg"],
        lon=INCIDENT[0],
        lat=INCIDENT[1],
    )
    assert case.state == "void" and case.stage is None and case.stage_deadline is None
    assert events(db_session, case) == [
        ("report", None, "reported"),
        ("accept", "reported", "accepted"),
        ("void", "accepted", "void"),
    ]
    last = db_session.scalars(select(CaseEvent).order_by(CaseEvent.id.desc())).first()
    assert last is not None and (last.actor, last.role, last.note, last.media) == (
        "op_district",
        "district_operator",
        "重复上报",
        ["photo/1.jpg"],
    )
    assert last.geom is not None


def test_invalid_transition_is_conflict_and_changes_nothing(db_session: Session, world: World) -> None:
    case = report(db_session)
    with pytest.raises(ConflictError, match="cannot close a case that is reported"):
        transition_case(db_session, case.id, "close", OPERATOR, now=MONDAY_9)
    assert case.state == "reported" and len(events(db_session, case)) == 1


def test_unknown_action_and_dispatch_through_transition(db_session: Session, world: World) -> None:
    case = report(db_session)
    with pytest.raises(InvalidInputError, match="unknown action 'teleport'"):
        transition_case(db_session, case.id, "teleport", OPERATOR)
    with pytest.raises(InvalidInputError, match="dispatch a case with dispatch_case"):
        transition_case(db_session, case.id, "dispatch", OPERATOR)


def test_scope_hides_cases_outside_the_area(db_session: Session, world: World) -> None:
    case = report(db_session)
    east_operator = Actor("op_east", "street_operator", scope_code="420106002")
    with pytest.raises(NotFoundError, match=f"case {case.id} not found"):
        transition_case(db_session, case.id, "accept", east_operator)
    with pytest.raises(NotFoundError):
        transition_case(db_session, 10**9, "accept", OPERATOR)


def test_self_disposal_on_patrol(db_session: Session, world: World) -> None:
    case = report(db_session, actor=WORKER, source="patrol")
    transition_case(
        db_session, case.id, "self_dispose", WORKER, now=MONDAY_9, media=["before.jpg", "after.jpg"]
    )
    assert case.state == "disposed" and case.stage == "verify"
    big = report(db_session, category_code="E0101", actor=WORKER, source="patrol")  # 私搭乱建
    with pytest.raises(ConflictError, match="may not be self-disposed"):
        transition_case(db_session, big.id, "self_dispose", WORKER, now=MONDAY_9)


def test_event_log_is_append_only(db_session: Session, world: World) -> None:
    report(db_session)
    with pytest.raises(DBAPIError, match="case_event is append-only: UPDATE"), db_session.begin_nested():
        db_session.execute(text("UPDATE case_event SET note = 'rewritten'"))
    with pytest.raises(DBAPIError, match="case_event is append-only: DELETE"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM case_event"))


def test_escalation_community_street_district(db_session: Session, world: World) -> None:
    case = report(db_session)  # accept due Monday 09:30
    first = escalate_overdue(db_session, datetime(2026, 3, 2, 9, 0, tzinfo=CN))
    assert first.checked == 0 and not case.supervised
    second = escalate_overdue(db_session, datetime(2026, 3, 2, 10, 0, tzinfo=CN))
    assert second.supervised == [case.id] and second.escalated == [(case.id, "street")]
    assert case.supervised and case.escalation_level == "street"
    again = escalate_overdue(db_session, datetime(2026, 3, 2, 11, 0, tzinfo=CN))
    assert again.checked == 1 and again.escalated == [] and again.supervised == []
    # 8 working hours overdue: Monday 09:30 + 8 h = Tuesday 10:30
    late = escalate_overdue(db_session, datetime(2026, 3, 3, 10, 30, tzinfo=CN))
    assert late.escalated == [(case.id, "district")]
    assert [e[0] for e in events(db_session, case)] == ["report", "supervise", "escalate", "escalate"]
    assert "1 put under supervision" in str(second)


def test_escalation_skips_weekends(db_session: Session, world: World) -> None:
    friday = datetime(2026, 3, 6, 17, 50, tzinfo=CN)
    report(db_session, now=friday)  # accept due Monday 08:50
    report_run = escalate_overdue(db_session, datetime(2026, 3, 9, 8, 45, tzinfo=CN))
    assert report_run.checked == 0


def test_suspended_too_long_escalates_to_district(db_session: Session, world: World) -> None:
    case = report(db_session)
    for action in ("accept", "register"):
        transition_case(db_session, case.id, action, OPERATOR, now=MONDAY_9)
    transition_case(db_session, case.id, "suspend", OPERATOR, now=MONDAY_9, note="待资金")
    assert escalate_overdue(db_session, datetime(2026, 3, 20, tzinfo=CN)).checked == 0
    late = escalate_overdue(db_session, datetime(2026, 4, 2, tzinfo=CN))
    assert late.escalated == [(case.id, "street"), (case.id, "district")]


def test_point_on_grid_boundary_is_located(db_session: Session, world: World) -> None:
    # latitude 30.55 is the shared edge of grids 01 and 02: ST_Contains would find neither
    case = report(db_session, lon=114.305, lat=30.55)
    assert case.grid_code == GRID_SW

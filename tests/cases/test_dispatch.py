"""Nearest available responsible member by road, the stored explanation, fallbacks and concurrency."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

from gis_api.cases.dispatch import dispatch_case
from gis_api.cases.models import Case
from gis_api.cases.service import Actor, create_case, transition_case
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.errors import ConflictError
from gis_api.routing.engine import RoadGraph
from tests.cases import fixtures
from tests.cases.fixtures import INCIDENT, World

CN = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, tzinfo=CN)
OPERATOR = Actor("op", "district_operator", scope_code="420106")


@pytest.fixture
def world(connection: Connection) -> World:
    return fixtures.build(connection)


@pytest.fixture
def graph(connection: Connection, world: World) -> RoadGraph:
    return RoadGraph.from_connection(connection)


def registered_case(session: Session, category: str = "E0201") -> Case:
    case = create_case(
        session, category_code=category, lon=INCIDENT[0], lat=INCIDENT[1], actor=OPERATOR, now=MONDAY_9
    ).case
    for action in ("accept", "register"):
        transition_case(session, case.id, action, OPERATOR, now=MONDAY_9)
    return case


def status(session: Session, member_id: int) -> str:
    return session.scalar(text("SELECT status::text FROM team_member WHERE id = :i"), {"i": member_id})


def set_status(session: Session, member_ids: list[int], value: str) -> None:
    session.execute(
        text("UPDATE team_member SET status = CAST(:s AS availability) WHERE id = ANY(:i)"),
        {"s": value, "i": member_ids},
    )


def test_nearest_by_road_not_by_straight_line(db_session: Session, world: World, graph: RoadGraph) -> None:
    case = registered_case(db_session)
    decision = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=graph)
    volunteer, worker = world.members["volunteer"], world.members["worker"]
    assert decision.member_id == volunteer and case.assigned_member_id == volunteer
    explanation = case.dispatch_explanation
    assert explanation is not None and explanation["method"] == "road"
    ranked = [(c["member_id"], c["tier"], c["travel_time_s"]) for c in explanation["candidates"]]
    # volunteer 1->4->5 = 45 s (1->2->5 is 50 s); worker mid 3-6 -> 6 -> 5 = 15 + 100 s plus a short walk
    assert ranked[0] == (volunteer, "grid", 45.0)
    assert ranked[1][:2] == (worker, "grid") and ranked[1][2] == pytest.approx(115.0, abs=1.0)
    assert ranked[2][:2] == (world.members["neighbour"], "community")
    assert explanation["straight_line_choice"] == worker and explanation["straight_line_differs"]
    member_ids = {c["member_id"] for c in explanation["candidates"]}
    assert not member_ids & {world.members[k] for k in ("off_duty", "cadre", "east")}
    assert case.state == "dispatched" and case.stage == "dispose"
    assert case.stage_deadline == datetime(2026, 3, 2, 15, 0, tzinfo=CN)  # 4 h: 09-12, 14-15
    assert status(db_session, volunteer) == "en_route"
    assert str(decision).endswith(f"member {volunteer} (grid, 0.8 min by road)")


def test_falls_back_to_community_then_conflict(db_session: Session, world: World, graph: RoadGraph) -> None:
    set_status(db_session, [world.members["volunteer"], world.members["worker"]], "off_duty")
    case = registered_case(db_session)
    decision = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=graph)
    assert decision.member_id == world.members["neighbour"]
    assert decision.explanation["chosen"]["tier"] == "community"
    other = registered_case(db_session)
    with pytest.raises(ConflictError, match="no available team member of your area who may handle E0201"):
        dispatch_case(db_session, other.id, OPERATOR, now=MONDAY_9, graph=graph)
    assert other.state == "registered"


def test_category_roles_limit_candidates(db_session: Session, world: World, graph: RoadGraph) -> None:
    case = registered_case(db_session, "E0403")  # gas pipe: street and sinking cadres only
    decision = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=graph)
    assert decision.member_id == world.members["cadre"]
    assert decision.explanation["candidate_count"] == 1


def test_member_freed_after_disposal(db_session: Session, world: World, graph: RoadGraph) -> None:
    case = registered_case(db_session)
    member = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=graph).member_id
    worker = Actor("vol", "grid_worker", scope_code=fixtures.GRID_SW, member_id=member)
    transition_case(db_session, case.id, "start", worker, now=MONDAY_9)
    assert status(db_session, member) == "on_scene"
    transition_case(db_session, case.id, "dispose", worker, now=MONDAY_9, media=["after.jpg"])
    assert status(db_session, member) == "available"


def test_returned_case_can_be_dispatched_again(db_session: Session, world: World, graph: RoadGraph) -> None:
    case = registered_case(db_session)
    first = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=graph).member_id
    transition_case(db_session, case.id, "return", OPERATOR, now=MONDAY_9, note="非本网格职责")
    again = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=graph)
    assert again.member_id == first  # freed by the return, still the nearest


def test_without_road_network_uses_straight_line(db_session: Session, world: World) -> None:
    case = registered_case(db_session)
    decision = dispatch_case(db_session, case.id, OPERATOR, now=MONDAY_9, graph=_empty_graph(db_session))
    assert decision.explanation["method"].startswith("straight_line")
    assert decision.member_id == world.members["worker"]


def _empty_graph(session: Session) -> RoadGraph:
    session.execute(text("DELETE FROM road_edge"))
    return RoadGraph.from_connection(session.connection())


def test_dispatch_needs_registered_case_and_operator(
    db_session: Session, world: World, graph: RoadGraph
) -> None:
    case = create_case(
        db_session, category_code="E0201", lon=INCIDENT[0], lat=INCIDENT[1], actor=OPERATOR
    ).case
    with pytest.raises(ConflictError, match="cannot dispatch a case that is reported"):
        dispatch_case(db_session, case.id, OPERATOR, graph=graph)


@pytest.fixture
def committed_world(cluster: EmbeddedCluster):
    """A separate database with committed data, so that many connections can race on it."""
    name = "wangge_test_dispatch_race"
    cluster.drop_database(name)
    engine = create_engine(cluster.create_database(name), pool_size=60, max_overflow=0)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        world = fixtures.build(connection)
    yield engine, world
    engine.dispose()
    cluster.drop_database(name)


def test_fifty_concurrent_dispatches_assign_once(committed_world) -> None:
    engine, _ = committed_world
    with Session(engine) as session, session.begin():
        case_id = registered_case(session).id
    with engine.connect() as connection:
        graph = RoadGraph.from_connection(connection)
    start = threading.Barrier(50)

    def attempt(_: int) -> str:
        with Session(engine) as session:
            start.wait()
            try:
                with session.begin():
                    return f"ok:{dispatch_case(session, case_id, OPERATOR, graph=graph).member_id}"
            except ConflictError as error:
                return f"conflict:{error}"

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert sum(o.startswith("ok:") for o in outcomes) == 1
    conflicts = [o for o in outcomes if o.startswith("conflict:")]
    assert len(conflicts) == 49 and all("cannot dispatch a case that is dispatched" in c for c in conflicts)
    with engine.connect() as connection:
        dispatches = connection.scalar(text("SELECT count(*) FROM case_event WHERE action = 'dispatch'"))
        en_route = connection.scalar(text("SELECT count(*) FROM team_member WHERE status = 'en_route'"))
    assert (dispatches, en_route) == (1, 1)

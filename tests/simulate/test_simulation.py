"""A few simulated minutes on the tiny district: cases run to closed, workers ride the roads, runs repeat."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.routing.engine import RoadGraph
from gis_api.simulate.service import resume_time
from tests.cases.fixtures import World
from tests.simulate import world as sim_world

FULL_LOOP = ["report", "accept", "register", "dispatch", "start", "dispose", "verify", "close"]


@pytest.fixture
def world(connection: Connection) -> World:
    return sim_world.build(connection)


def actions_of(connection: Connection, case_id: int) -> list[str]:
    rows = connection.execute(
        text("SELECT action FROM case_event WHERE case_id = :c ORDER BY id"), {"c": case_id}
    )
    return [row[0] for row in rows]


def test_cases_go_through_to_closed_and_workers_come_free(connection: Connection, world: World) -> None:
    report, lines = sim_world.simulate(connection)
    closed = connection.scalars(text("SELECT id FROM incident WHERE state = 'closed' ORDER BY id")).all()
    assert report.stats.closed == len(closed) >= 5
    assert report.stats.reported == connection.scalar(text("SELECT count(*) FROM incident"))
    loops = [actions_of(connection, case_id) for case_id in closed]
    assert FULL_LOOP in loops
    assert all(actions[0] == "report" and actions[-2:] == ["verify", "close"] for actions in loops)
    # a worker who disposed a case was free for the next one: dispatch only claims available members
    repeat_dispatches = connection.scalar(
        text(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM case_event WHERE action = 'dispatch' "
            "GROUP BY details->>'member_id') AS per_member"
        )
    )
    assert repeat_dispatches >= 2
    assert lines and lines[-1].startswith("[simulate] +")
    assert "closed" in lines[-1] and "workers en route" in lines[-1]


def test_worker_rides_along_the_road_towards_the_case(connection: Connection, world: World) -> None:
    sim_world.simulate(connection)
    graph = RoadGraph.from_connection(connection)
    case_id, member_id, lon, lat, dispatched_at, started_at = connection.execute(
        text(
            "SELECT i.id, i.assigned_member_id, ST_X(i.geom), ST_Y(i.geom), d.at, s.at FROM incident i "
            "JOIN case_event d ON d.case_id = i.id AND d.action = 'dispatch' "
            "JOIN case_event s ON s.case_id = i.id AND s.action = 'start' "
            "WHERE ST_DWithin(i.geom::geography, (SELECT ST_Collect(geom) FROM road_edge)::geography, 30) "
            "ORDER BY (SELECT count(*) FROM position_ping p WHERE p.member_id = i.assigned_member_id "
            "AND p.device_time > d.at AND p.device_time <= s.at) DESC, i.id LIMIT 1"
        )
    ).one()
    pings = connection.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom), ST_Distance(geom::geography, "
            "(SELECT ST_Collect(geom) FROM road_edge)::geography) FROM position_ping "
            "WHERE member_id = :m AND device_time > :a AND device_time <= :b ORDER BY device_time"
        ),
        {"m": member_id, "a": dispatched_at, "b": started_at},
    ).all()
    assert len(pings) >= 3, f"case {case_id}: too few pings to see a ride"
    positions = np.array([(p[0], p[1]) for p in pings])
    eta_s, straight_m, _ = graph.search_to((lon, lat)).travel_times(positions)
    case_off_road_m = graph.snap(np.array([[lon, lat]])).offset_m[0]
    riding = straight_m > case_off_road_m + 2.0  # before the last few metres on foot to the case
    assert riding.sum() >= 3
    off_road_m = np.array([p[2] for p in pings])
    joined = int(np.argmax(off_road_m < 1.0))  # a worker may first have to reach the road from a doorway
    assert off_road_m[joined] < 1.0 and np.all(np.diff(off_road_m[: joined + 1]) < 0)
    assert np.all(off_road_m[joined:][riding[joined:]] < 1.0), "once on the road the worker stays on it"
    assert riding[joined:].sum() >= 3
    assert np.all(np.diff(eta_s[riding]) < 0), "every ping is closer to the case by road than the one before"
    assert straight_m[-1] < 1.0, "the last ping is at the case"
    last = connection.execute(
        text("SELECT ST_X(last_position), ST_Y(last_position) FROM team_member WHERE id = :m"),
        {"m": member_id},
    ).one()
    assert last is not None


def signature(connection: Connection) -> list[tuple[object, ...]]:
    """Everything the run wrote that a repeat must reproduce (case ids replaced by their rank)."""
    events = connection.execute(
        text(
            "SELECT dense_rank() OVER (ORDER BY i.id), i.category_code, i.source, "
            "round(ST_X(i.geom)::numeric, 8), round(ST_Y(i.geom)::numeric, 8), "
            "e.action, e.at, e.actor, e.to_state, i.assigned_member_id "
            "FROM case_event e JOIN incident i ON i.id = e.case_id ORDER BY e.id"
        )
    ).all()
    pings = connection.execute(
        text("SELECT member_id, device_time, ST_AsText(geom) FROM position_ping ORDER BY 1, 2")
    ).all()
    return [tuple(row) for row in events] + [tuple(row) for row in pings]


def test_same_seed_same_run_other_seed_other_run(connection: Connection, world: World) -> None:
    runs = []
    for seed in (11, 11, 12):
        savepoint = connection.begin_nested()
        sim_world.simulate(connection, minutes=20, seed=seed)
        runs.append(signature(connection))
        savepoint.rollback()
    assert len(runs[0]) > 20
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_a_new_run_starts_after_stamps_an_earlier_fast_run_left_in_the_future(
    connection: Connection, world: World
) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=3)
    connection.execute(
        text(
            "INSERT INTO position_ping (member_id, device_time, geom) "
            "VALUES (:m, :t, ST_SetSRID(ST_MakePoint(114.301, 30.549), 4326))"
        ),
        {"m": world.members["worker"], "t": ahead},
    )
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        assert resume_time(session) == ahead + timedelta(seconds=1)

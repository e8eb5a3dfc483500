"""Live events over NOTIFY and SSE: scope filtering, position changes, resume without loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

from tests.cases.fixtures import INCIDENT
from tests.events.live import Listener, LiveServer
from tests.security.api_world import EAST_INCIDENT

Event = tuple[int, str, dict[str, Any]]


def report(server: LiveServer, where: tuple[float, float], category: str = "E0201") -> int:
    response = server.post("admin", "/cases", {"category_code": category, "lon": where[0], "lat": where[1]})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def is_case(case_id: int, action: str = "report") -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        kind, body = event[1], event[2]
        return kind == "case" and body["case_id"] == case_id and body["data"]["action"] == action

    return matches


def test_streams_only_the_callers_area(live_server: LiveServer) -> None:
    west_op = Listener(live_server, "west_op")
    admin = Listener(live_server, "admin")
    east = report(live_server, EAST_INCIDENT)
    west = report(live_server, INCIDENT)
    seen = west_op.until(is_case(west))
    assert all(event[2]["case_id"] != east for event in seen)  # NOTIFY order is commit order
    both = admin.until(is_case(west))
    assert {e[2]["case_id"] for e in both} >= {east, west}
    event = seen[-1][2]
    assert event["grid_code"].startswith("420106001") and event["data"]["to_state"] == "reported"


def test_transitions_and_positions_are_published(live_server: LiveServer) -> None:
    admin = Listener(live_server, "admin")
    worker = Listener(live_server, "west_worker")
    case_id = report(live_server, INCIDENT)
    assert live_server.post("west_op", f"/cases/{case_id}/actions/accept", {}).status_code == 200
    accepted = admin.until(is_case(case_id, "accept"))[-1][2]
    assert (accepted["data"]["from_state"], accepted["data"]["state"]) == ("reported", "accepted")
    worker.until(is_case(case_id, "accept"))  # the worker's own grid
    pings = {"pings": [{"lon": 114.3021, "lat": 30.5482, "device_time": "2026-03-02T09:00:00+08:00"}]}
    assert live_server.post("west_worker", "/positions", pings).status_code == 200
    moved = admin.until(lambda e: e[1] == "position")[-1][2]
    assert moved["member_id"] == live_server.world.members["worker"] and moved["data"]["lon"] == 114.3021


def test_resume_with_last_event_id_loses_nothing(live_server: LiveServer) -> None:
    first = Listener(live_server, "west_op")
    case_id = report(live_server, INCIDENT)
    last_id = first.until(is_case(case_id))[-1][0]
    # while the client is away: two transitions happen
    for action in ("accept", "register"):
        assert live_server.post("admin", f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    resumed = Listener(live_server, "west_op", last_event_id=last_id)
    seen = resumed.until(is_case(case_id, "register"))
    actions = [e[2]["data"]["action"] for e in seen if e[2]["case_id"] == case_id and e[0] > last_id]
    assert actions == ["accept", "register"]


def test_first_message_carries_an_id_to_resume_from(live_server: LiveServer) -> None:
    before = report(live_server, INCIDENT)  # acknowledged: its event is committed
    early = Listener(live_server, "west_op")
    engine = create_engine(live_server.database_url)
    with engine.connect() as connection:
        newest = connection.execute(text("SELECT max(id) FROM live_event")).scalar_one()
    engine.dispose()
    assert early.connected_id == newest
    # the client drops before its first event; a case is reported while it is away
    missed = report(live_server, INCIDENT)
    resumed = Listener(live_server, "west_op", last_event_id=early.connected_id)
    assert resumed.connected_id == early.connected_id
    seen = resumed.until(is_case(missed))
    # (the replay may repeat the anchor itself, as any resume may: ids are never missed)
    assert [e[2]["case_id"] for e in seen if e[0] > newest] == [missed]
    assert {e[2]["case_id"] for e in seen} <= {before, missed}


def test_planner_and_anonymous_may_not_stream(live_server: LiveServer) -> None:
    import httpx

    url = f"{live_server.base_url}/events/stream?max_seconds=1"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, headers=live_server.headers("planner"), timeout=10).status_code == 403
    bad = httpx.get(url, headers={**live_server.headers("admin"), "Last-Event-ID": "abc"}, timeout=10)
    assert bad.status_code == 422

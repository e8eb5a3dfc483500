"""HTTP: per-grid workload and replay of a draft next to the active plan, JSON and CSV, scoped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.routing.engine import RoadGraph
from tests.api.app_fixtures import app, areas, auth_headers, client, users
from tests.routing import ladder
from tests.workload.world import BEIJING, GRIDS, add_case, add_draft

__all__ = ["app", "areas", "auth_headers", "client", "users"]
Headers = Callable[[str], dict[str, str]]
PERIOD = "since=2026-03-01&until=2026-04-01"


def test_replay_and_workload_for_planners_only(
    app: FastAPI, client: TestClient, auth_headers: Headers, areas: dict[str, int], db_session: Session
) -> None:
    connection = db_session.connection()
    ladder.build(connection)
    app.state.road_graphs = {"420106": RoadGraph.from_connection(connection, "420106")}
    draft = add_draft(connection)
    for lon, lat, grid in ((114.305, 30.545, GRIDS[0]), (114.315, 30.555, GRIDS[3])):
        add_case(connection, "C0101", lon, lat, datetime(2026, 3, 2, 10, tzinfo=BEIJING), grid)
    planner = auth_headers("planner")
    body = client.get(f"/plans/{draft}/replay?{PERIOD}", headers=planner)
    assert body.status_code == 200, body.text
    replay = body.json()
    assert replay["plan"]["plan_id"] == draft and replay["active"]["plan_id"] == areas["plan"]
    assert (replay["plan"]["since"], replay["plan"]["until"]) == (
        "2026-03-01T00:00:00+08:00",
        "2026-04-01T00:00:00+08:00",
    )
    audited = connection.execute(
        text("SELECT username, target FROM audit_log WHERE action = 'plans.replay'")
    ).all()
    assert audited == [("planner", f"plan {draft}")]
    assert [g["cases"] for g in replay["plan"]["grids"]] == [1, 1]
    assert replay["active"]["summary"]["cases"] == 2 and replay["active"]["summary"]["cases_in_no_grid"] == 0
    csv = client.get(f"/plans/{draft}/replay?{PERIOD}&format=csv", headers=planner)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("plan,plan_id,level,code,name") and len(lines) == 1 + 2 + 4
    workload = client.get(f"/plans/{draft}/workload?{PERIOD}", headers=planner).json()
    assert [g["case_hours"] for g in workload["grids"]] == [1.0, 1.0]
    assert client.get(f"/plans/{draft}/replay", headers=auth_headers("west_op")).status_code == 403
    bad = client.get(f"/plans/{draft}/replay?since=yesterday", headers=planner)
    assert bad.status_code == 422 and "expected YYYY-MM-DD" in bad.json()["detail"]
    for absurd in ("0001-01-01", "2026-03-01T00:00:00", "2026-03-01%00"):
        refused = client.get(f"/plans/{draft}/replay?since={absurd}", headers=planner)
        assert refused.status_code == 422, (absurd, refused.text)
    backwards = client.get(f"/plans/{draft}/replay?since=2026-04-01&until=2026-03-01", headers=planner)
    assert backwards.status_code == 422
    assert client.get(f"/plans/999999/replay?{PERIOD}", headers=planner).status_code == 404

"""REST case handling over HTTP: create, idempotent retries, filters, timeline, the full workflow."""

from __future__ import annotations

from typing import Literal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.loaders.chinese_datums import from_wgs84
from tests.cases.fixtures import GRID_SW
from tests.security.api_world import EAST_INCIDENT, INCIDENT, Api
from tests.tiny_district import EAST


def case_count(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM incident")).scalar_one())


def test_create_locates_and_logs(api: Api) -> None:
    response = api.as_("west_op").report(
        description="电线杆小广告", media=["https://photos.example.org/photo-1.jpg"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["grid_code"], body["state"], body["stage"], body["source"]) == (
        GRID_SW,
        "reported",
        "accept",
        "api",
    )
    assert (body["lon"], body["lat"]) == pytest.approx(INCIDENT)
    assert body["category_name"].endswith("非法小广告")
    detail = api.as_("west_op").get(f"/cases/{body['id']}").json()
    assert [(e["action"], e["to_state"], e["media"]) for e in detail["events"]] == [
        ("report", "reported", ["https://photos.example.org/photo-1.jpg"])
    ]
    assert "accept" in detail["allowed_actions"] and "close" not in detail["allowed_actions"]


def test_gcj02_and_bd09_are_converted(api: Api) -> None:
    datums: tuple[Literal["gcj02", "bd09"], ...] = ("gcj02", "bd09")
    for crs in datums:
        lon, lat = from_wgs84(crs, [INCIDENT[0]], [INCIDENT[1]])
        response = api.report(where=(float(lon[0]), float(lat[0])), crs=crs.upper())
        assert response.status_code == 201, response.text
        assert (response.json()["lon"], response.json()["lat"]) == pytest.approx(INCIDENT, abs=1e-6)


def test_idempotency_key_returns_the_original(api: Api, db_session: Session) -> None:
    key = {"Idempotency-Key": "tablet-7-0001"}
    body = {"category_code": "E0201", "lon": INCIDENT[0], "lat": INCIDENT[1]}
    first = api.post("/cases", body, headers=key)
    again = api.post("/cases", body, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert case_count(db_session) == 1
    changed = api.post("/cases", {**body, "category_code": "E0102"}, headers=key)
    assert changed.status_code == 409 and "different case report" in changed.json()["detail"]
    # keys belong to one account: the same key from someone else is a new report, never a leak
    other = api.as_("west_op").post("/cases", body, headers=key)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category_code": "X9999"}, "unknown category 'X9999'"),
        ({"lon": 114.9, "lat": 30.9}, "outside every grid"),
        ({"crs": "epsg4490"}, "body field crs"),
        ({"lat": 95.0}, "body field lat"),
        ({"colour": "red"}, "body field colour"),
    ],
)
def test_bad_reports_are_422_and_write_nothing(
    api: Api, db_session: Session, change: dict[str, object], message: str
) -> None:
    body = {"category_code": "E0201", "lon": INCIDENT[0], "lat": INCIDENT[1], **change}
    response = api.post("/cases", body)
    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert case_count(db_session) == 0


def test_malformed_json_is_422(api: Api) -> None:
    response = api.client.post(
        "/cases",
        content=b'{"category_code": "E0201", "lon": ',
        headers={**api.headers("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "JSON" in str(response.json()["detail"])


def test_operator_cannot_report_outside_their_area(api: Api, db_session: Session) -> None:
    response = api.as_("west_op").report(where=EAST_INCIDENT)
    assert response.status_code == 403 and "outside your area" in response.json()["detail"]
    assert case_count(db_session) == 0


def test_list_filters_and_scope(api: Api) -> None:
    west = api.report().json()["id"]
    east = api.report("E0102", EAST_INCIDENT).json()["id"]
    api.post(f"/cases/{west}/actions/accept", {})
    ids = lambda user, query="": [c["id"] for c in api.as_(user).get(f"/cases{query}").json()["items"]]  # noqa: E731
    assert ids("admin") == [east, west]
    assert ids("west_op") == [west] and ids("east_op") == [east]
    assert ids("west_worker") == [west] and ids("north_worker") == []
    assert ids("admin", "?state=accepted") == [west]
    assert ids("admin", "?category=E01") == [east]
    assert ids("admin", f"?scope={GRID_SW}") == [west]
    assert ids("admin", "?overdue=false") == [east, west]
    assert ids("admin", "?limit=1") == [east]
    page = api.get("/cases?limit=1").json()
    assert page["next_before_id"] == east and ids("admin", f"?limit=1&before_id={east}") == [west]
    assert api.get("/cases?state=lost").status_code == 422
    assert api.get("/cases?scope=12ab").status_code == 422
    assert api.as_("east_op").get(f"/cases/{west}").status_code == 404
    assert api.as_("planner").get("/cases").status_code == 403


def test_full_workflow_with_dispatch_reassign_and_rating(api: Api) -> None:
    members = api.world.members
    case_id = api.registered()
    dispatched = api.as_("west_op").post(f"/cases/{case_id}/dispatch", {"note": "请尽快处理"})
    assert dispatched.status_code == 200, dispatched.text
    decision = dispatched.json()
    assert decision["member_id"] == members["volunteer"]  # nearest by road, not by straight line
    assert decision["explanation"]["straight_line_differs"] is True
    assert decision["case"]["state"] == "dispatched"
    # the worker is not the assignee yet: they may see the case of their grid but not start it
    refused = api.as_("west_worker").post(f"/cases/{case_id}/actions/start", {})
    assert refused.status_code == 403 and "not assigned to you" in refused.json()["detail"]
    moved = api.as_("west_op").post(f"/cases/{case_id}/reassign", {"member_id": members["worker"]})
    assert moved.status_code == 200 and moved.json()["assigned_member_id"] == members["worker"]
    worker = api.as_("west_worker")
    assert worker.post(f"/cases/{case_id}/actions/start", {}).status_code == 200
    disposed = worker.post(
        f"/cases/{case_id}/actions/dispose",
        {
            "note": "已清除",
            "media": ["https://photos.example.org/after.jpg"],
            "lon": INCIDENT[0],
            "lat": INCIDENT[1],
        },
    )
    assert disposed.status_code == 200 and disposed.json()["state"] == "disposed"
    assert api.post(f"/cases/{case_id}/rating", {"rating": 5}).status_code == 409  # not closed yet
    for action in ("verify", "close"):
        assert api.as_("west_op").post(f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    rated = api.as_("west_op").post(f"/cases/{case_id}/rating", {"rating": 4, "note": "回访满意"})
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    detail = api.get(f"/cases/{case_id}").json()
    actions = [e["action"] for e in detail["events"]]
    assert actions == [
        "report", "accept", "register", "dispatch", "reassign", "start", "dispose", "verify", "close", "rate"
    ]  # fmt: skip
    dispose_event = detail["events"][6]
    assert dispose_event["actor"] == "west_worker" and dispose_event["lon"] == pytest.approx(INCIDENT[0])
    assert detail["dispatch_explanation"]["chosen"]["member_id"] == members["volunteer"]
    assert detail["state"] == "closed" and detail["allowed_actions"] == []


def test_invalid_transitions_and_unknown_actions(api: Api) -> None:
    case_id = api.report().json()["id"]
    closing = api.post(f"/cases/{case_id}/actions/close", {})
    assert closing.status_code == 409 and "cannot close a case that is reported" in closing.json()["detail"]
    unknown = api.post(f"/cases/{case_id}/actions/teleport", {})
    assert unknown.status_code == 422 and "unknown action 'teleport'" in unknown.json()["detail"]
    assert api.post("/cases/999999/actions/accept", {}).status_code == 404
    assert api.post("/cases/0/actions/accept", {}).status_code == 422
    half = api.post(f"/cases/{case_id}/actions/accept", {"lon": 114.3})
    assert half.status_code == 422 and "both lon and lat" in str(half.json()["detail"])
    supervised = api.as_("west_op").post(f"/cases/{case_id}/supervise", {"note": "督办"})
    assert supervised.status_code == 200 and supervised.json()["supervised"] is True
    again = api.as_("west_op").post(f"/cases/{case_id}/supervise", {})
    assert again.status_code == 409
    community = api.as_("west_community_op").post(f"/cases/{case_id}/actions/void", {})
    assert community.status_code == 403


def test_worker_reports_on_patrol_and_self_disposes(api: Api) -> None:
    worker = api.as_("west_worker")
    created = worker.report("E0102")  # 暴露垃圾: may be self-disposed
    assert created.status_code == 201 and created.json()["source"] == "patrol"
    case_id = created.json()["id"]
    done = worker.post(
        f"/cases/{case_id}/actions/self_dispose", {"media": ["https://photos.example.org/clean.jpg"]}
    )
    assert done.status_code == 200 and done.json()["state"] == "disposed"
    outside = worker.report("E0102", EAST_INCIDENT)
    assert outside.status_code == 403


def test_counters_are_exact_and_scoped(api: Api) -> None:
    west = [api.as_("west_op").report().json()["id"] for _ in range(3)]
    api.as_("east_op").report(where=EAST_INCIDENT)
    assert api.as_("west_op").get("/cases/counters").json() == {"open": 3, "overdue": 0, "closed_today": 0}
    assert api.as_("admin").get("/cases/counters").json()["open"] == 4
    assert api.as_("admin").get("/cases/counters", params={"area": EAST}).json()["open"] == 1
    assert len(west) == 3
    assert api.as_("planner").get("/cases/counters").status_code == 403
    assert api.as_("admin").get("/cases/counters", params={"area": "12x"}).status_code == 422

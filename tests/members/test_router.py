"""Availability of field workers and the command centre's team layer (GET /members), per role and scope."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user
from tests.api.app_fixtures import PASSWORD
from tests.cases.fixtures import GRID_SW, MEMBERS
from tests.security.api_world import Api

WEST_STREET = GRID_SW[:9]


def status_of(session: Session, member_id: int) -> str:
    return str(
        session.execute(text("SELECT status FROM team_member WHERE id = :m"), {"m": member_id}).scalar_one()
    )


def test_worker_sets_availability_and_it_is_published(api: Api, db_session: Session) -> None:
    worker = api.world.members["worker"]
    response = api.as_("west_worker").post("/members/me/availability", {"status": "off_duty"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["home_grid_code"]) == (worker, "off_duty", GRID_SW)
    assert status_of(db_session, worker) == "off_duty"
    event = db_session.execute(
        text("SELECT kind, grid_code, payload FROM live_event WHERE member_id = :m ORDER BY id DESC LIMIT 1"),
        {"m": worker},
    ).one()
    assert (event.kind, event.grid_code, event.payload["status"]) == ("position", GRID_SW, "off_duty")
    assert event.payload["change"] == "availability"
    assert (event.payload["lon"], event.payload["lat"]) == pytest.approx(MEMBERS["worker"][3])
    assert api.as_("west_worker").get("/members/me").json()["status"] == "off_duty"
    back = api.as_("west_worker").post("/members/me/availability", {"status": "available"})
    assert back.status_code == 200 and status_of(db_session, worker) == "available"
    assert api.as_("west_worker").get("/members/me").json()["status"] == "available"
    assert api.as_("west_op").get("/members/me").status_code == 403


def test_off_duty_worker_is_not_dispatched(api: Api) -> None:
    assert api.as_("west_worker").post("/members/me/availability", {"status": "off_duty"}).status_code == 200
    case_id = api.registered()
    decision = api.as_("admin").post(f"/cases/{case_id}/dispatch", {}).json()
    assert decision["member_id"] != api.world.members["worker"]
    ranked = [c["member_id"] for c in decision["explanation"]["candidates"]]
    assert api.world.members["worker"] not in ranked


@pytest.mark.parametrize(
    ("user", "body", "status", "message"),
    [
        ("west_worker", {"status": "asleep"}, 422, "body field status"),
        ("west_worker", {"status": "available", "extra": 1}, 422, "body field extra"),
        ("west_op", {"status": "available"}, 403, "does not report positions"),
        ("loose_worker", {"status": "available"}, 403, "not linked to a team member"),
        ("planner", {"status": "available"}, 403, "may not work with individual cases"),
    ],
)
def test_availability_refusals(
    api: Api, db_session: Session, user: str, body: dict[str, object], status: int, message: str
) -> None:
    create_user(db_session, "loose_worker", PASSWORD, "grid_worker", GRID_SW)
    before = status_of(db_session, api.world.members["worker"])
    response = api.as_(user).post("/members/me/availability", body)
    assert response.status_code == status and message in response.text
    assert status_of(db_session, api.world.members["worker"]) == before


def test_operators_see_their_areas_team_with_positions(api: Api) -> None:
    everyone = api.as_("admin").get("/members")
    assert everyone.status_code == 200, everyone.text
    assert everyone.json()["count"] == len(MEMBERS) and everyone.json()["scope"] == "420106"
    west = api.as_("west_op").get("/members").json()
    by_id = {m["id"]: m for m in west["items"]}
    assert set(by_id) == {api.world.members[k] for k in MEMBERS if k != "east"}
    worker = by_id[api.world.members["worker"]]
    assert (worker["lon"], worker["lat"]) == pytest.approx(MEMBERS["worker"][3])
    assert (worker["status"], worker["role"], worker["home_grid_code"]) == (
        "available",
        "grid_worker",
        GRID_SW,
    )
    off = by_id[api.world.members["off_duty"]]
    assert off["status"] == "off_duty"
    grid = api.as_("admin").get("/members", params={"scope": GRID_SW}).json()
    assert {m["home_grid_code"] for m in grid["items"]} == {GRID_SW} and grid["count"] == 4


@pytest.mark.parametrize(
    ("user", "scope", "status", "message"),
    [
        ("east_op", WEST_STREET, 403, "outside your scope"),
        ("west_op", "420106", 403, "outside your scope"),
        ("west_worker", None, 403, "may not list team members"),
        ("planner", None, 403, "may not list team members"),
        ("admin", "12ab", 422, "digits only"),
        ("admin", "1234567", 422, "has 7 digits"),
    ],
)
def test_member_list_refusals(api: Api, user: str, scope: str | None, status: int, message: str) -> None:
    response = api.as_(user).get("/members", params={"scope": scope} if scope else {})
    assert response.status_code == status and message in response.text, response.text


def test_member_list_needs_login(api: Api) -> None:
    assert api.client.get("/members").status_code == 401
    assert api.client.post("/members/me/availability", json={"status": "available"}).status_code == 401

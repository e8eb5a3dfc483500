"""The hotline desk: phoned-in cases with their callers kept apart, duplicate hints, the category tree,
the photo-on-dispose rule and names in the case detail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.security.api_world import EAST_INCIDENT, INCIDENT, Api

CALLER = {"caller_name": "王女士", "caller_phone": "138 0000 1234"}
METRE = 1 / 111_000  # degrees of latitude


def call_in(api: Api, category: str = "E0201", where: tuple[float, float] = INCIDENT, **extra: Any) -> Any:
    body = {"category_code": category, "lon": where[0], "lat": where[1], "description": "楼道口小广告"}
    return api.post("/hotline/cases", {**body, **CALLER, **extra})


def test_category_tree_has_kinds_majors_and_the_photo_rule(api: Api) -> None:
    tree = api.as_("west_worker").get("/categories").json()
    kinds = {kind["kind"]: kind for kind in tree["kinds"]}
    assert set(kinds) == {"event", "component"} and kinds["event"]["name"] == "事件"
    ads = next(major for major in kinds["event"]["majors"] if major["code"] == "E02")
    assert ads["name"] == "宣传广告" and ads["minors"][0] == {
        "code": "E0201",
        "name": "非法小广告",
        "photo_on_dispose": False,
        "self_dispose": True,
    }
    covers = next(major for major in kinds["component"]["majors"] if major["code"] == "C01")
    assert all(minor["photo_on_dispose"] for minor in covers["minors"])
    assert api.client.get("/categories").status_code == 401


def test_hotline_case_keeps_the_caller_apart(api: Api, db_session: Session) -> None:
    created = call_in(api.as_("west_op"))
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["source"] == "hotline" and case["state"] == "reported"
    stored = db_session.execute(
        text("SELECT name, phone FROM case_contact WHERE case_id = :c"), {"c": case["id"]}
    ).one()
    assert tuple(stored) == ("王女士", "138 0000 1234")
    # nowhere in what case readers get: the case, its timeline, the list
    for reader in ("west_worker", "west_community_op", "admin"):
        detail = api.as_(reader).get(f"/cases/{case['id']}").text
        listing = api.as_(reader).get("/cases").text
        assert "138 0000 1234" not in detail + listing and "王女士" not in detail + listing


def test_state_changes_of_a_call_are_queued_without_the_caller(api: Api, db_session: Session) -> None:
    """A caller hears back like an Open311 reporter (the outbox), but the payload names no one: the
    receiver maps the case number to the caller it keeps (case_contact)."""
    case_id = call_in(api.as_("west_op")).json()["id"]
    assert api.as_("west_op").post(f"/cases/{case_id}/actions/accept", {}).status_code == 200
    rows = db_session.execute(
        text("SELECT payload FROM notification_outbox WHERE case_id = :c ORDER BY id"), {"c": case_id}
    ).all()
    states = [(row.payload["from_state"], row.payload["state"]) for row in rows]
    assert states == [(None, "reported"), ("reported", "accepted")]  # received, then each change
    assert all(row.payload["jurisdiction_id"] == "420106" for row in rows)
    assert all("1234" not in str(row.payload) and "王女士" not in str(row.payload) for row in rows)


def test_who_reads_the_caller_and_the_audit_trail(api: Api, db_session: Session) -> None:
    case_id = call_in(api.as_("admin")).json()["id"]
    statuses = {
        user: api.as_(user).get(f"/cases/{case_id}/contact").status_code
        for user in ("admin", "west_op", "east_op", "west_community_op", "west_worker", "planner")
    }
    assert statuses == {
        "admin": 200,
        "west_op": 200,
        "east_op": 404,
        "west_community_op": 403,
        "west_worker": 403,
        "planner": 403,
    }
    assert api.as_("west_op").get(f"/cases/{case_id}/contact").json()["phone"] == "138 0000 1234"
    audit = db_session.execute(
        text("SELECT username, action, count FROM audit_log WHERE target = :t ORDER BY id"),
        {"t": f"case {case_id}"},
    ).all()
    assert ("admin", "case_contact.read", 1) in audit and ("west_op", "case_contact.read", 1) in audit
    assert ("west_community_op", "case_contact.denied", 0) in audit
    plain = api.as_("admin").report().json()["id"]
    assert api.as_("admin").get(f"/cases/{plain}/contact").status_code == 404
    me = {
        user: api.as_(user).get("/auth/me").json()["may_read_contacts"] for user in ("admin", "west_worker")
    }
    assert me == {"admin": True, "west_worker": False}


def test_hotline_intake_refuses_bad_input_and_other_roles(api: Api, db_session: Session) -> None:
    assert call_in(api.as_("west_community_op")).status_code == 403
    assert call_in(api.as_("west_worker")).status_code == 403
    assert call_in(api.as_("west_op"), where=EAST_INCIDENT).status_code == 403
    no_contact = call_in(api.as_("admin"), caller_name="", caller_phone="")
    assert no_contact.status_code == 422 and "call-back" in no_contact.text
    assert call_in(api.as_("admin"), caller_phone="call me").status_code == 422
    assert call_in(api.as_("admin"), caller_name="王\x00女士").status_code == 422
    assert call_in(api.as_("admin"), description="   ").status_code == 422
    assert call_in(api.as_("admin"), category="X9999").status_code == 422
    # gis_api.inputs.Text: control characters and lone surrogates anywhere are a 422 naming the field
    for field, junk in (
        ("description", "小广告\x00"),
        ("description", "\ud800"),  # sent as the JSON escape \\ud800 (it cannot be UTF-8)
        ("caller_phone", "138\x1b"),
    ):
        body = {"category_code": "E0201", "lon": INCIDENT[0], "lat": INCIDENT[1], "description": "小广告"}
        raw = json.dumps({**body, **CALLER, field: junk}).encode()
        headers = {**api.headers("admin"), "Content-Type": "application/json"}
        refused = api.client.post("/hotline/cases", content=raw, headers=headers)
        assert refused.status_code == 422 and field in refused.text, (field, refused.text)
    assert call_in(api.as_("admin"), caller_name="王\n女士").status_code == 422  # a name is one line
    assert db_session.execute(text("SELECT count(*) FROM incident")).scalar_one() == 0
    duplicates = api.as_("admin").get("/hotline/duplicates?category=E02%00&lon=114.3&lat=30.55")
    assert duplicates.status_code == 422 and "category" in duplicates.text


def test_retried_call_is_one_case(api: Api, db_session: Session) -> None:
    key = {"Idempotency-Key": "desk-3-0042"}
    body = {
        "category_code": "E0201",
        "lon": INCIDENT[0],
        "lat": INCIDENT[1],
        "description": "小广告",
        **CALLER,
    }
    first = api.post("/hotline/cases", body, headers=key)
    again = api.post("/hotline/cases", body, headers=key)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert db_session.execute(text("SELECT count(*) FROM case_contact")).scalar_one() == 1


def test_duplicates_are_open_cases_of_the_same_minor_within_100_m(api: Api) -> None:
    lon, lat = INCIDENT
    near = api.as_("admin").report("E0201", (lon, lat + 60 * METRE)).json()["id"]
    api.as_("admin").report("E0201", (lon, lat + 140 * METRE))  # too far
    api.as_("admin").report("E0102", (lon, lat))  # another 小类
    closed = api.as_("admin").report("E0201", (lon, lat)).json()["id"]
    assert api.as_("admin").post(f"/cases/{closed}/actions/void", {}).status_code == 200
    hints = api.as_("west_op").get(
        "/hotline/duplicates", params={"category": "E0201", "lon": lon, "lat": lat}
    )
    assert hints.status_code == 200, hints.text
    items = hints.json()["items"]
    assert [item["id"] for item in items] == [near]
    assert 55 < items[0]["distance_m"] < 65
    hidden = api.as_("east_op").get(
        "/hotline/duplicates", params={"category": "E0201", "lon": lon, "lat": lat}
    )
    assert hidden.json()["items"] == []
    bad = api.get("/hotline/duplicates", params={"category": "E0201", "lon": 500, "lat": lat})
    assert bad.status_code == 422


def test_dispose_needs_a_photo_where_the_category_says_so(api: Api) -> None:
    case_id = api.registered("C0101")  # 上水井盖: photo_on_dispose
    api.as_("admin").post(f"/cases/{case_id}/dispatch", {})
    refused = api.as_("west_worker").post(f"/cases/{case_id}/actions/dispose", {"note": "已盖好"})
    assert refused.status_code == 422 and "photo_on_dispose" in refused.json()["detail"]
    assert "C0101" in refused.json()["detail"]
    done = api.as_("west_worker").post(
        f"/cases/{case_id}/actions/dispose", {"media": ["media:sha256:" + "a" * 64]}
    )
    assert done.status_code == 200 and done.json()["state"] == "disposed"
    ads = api.registered("E0201")
    api.as_("admin").post(f"/cases/{ads}/dispatch", {})
    assert api.as_("admin").post(f"/cases/{ads}/actions/dispose", {}).status_code == 200


def test_case_detail_names_the_handler_the_area_and_field_actors(api: Api) -> None:
    case_id = api.registered("C0102")  # handled by grid workers (and cadres): the worker is nearest
    api.as_("admin").post(f"/cases/{case_id}/dispatch", {})
    api.as_("west_worker").post(f"/cases/{case_id}/actions/start", {})
    detail = api.as_("west_op").get(f"/cases/{case_id}").json()
    assert detail["assigned_member"]["name"] == "网格员乙"
    assert detail["assigned_member"]["role"] == "grid_worker"
    assert detail["assigned_member"]["home_grid_name"] == "第01网格"
    assert detail["area_names"] == {
        "district": "武昌区",
        "street": "积玉桥街道",
        "community": "积玉桥社区",
        "grid": "第01网格",
    }
    started = next(event for event in detail["events"] if event["action"] == "start")
    assert started["actor_name"] == "网格员乙" and started["actor"] == "west_worker"
    assert detail["events"][0]["actor_name"] is None  # the admin's report: shown by username

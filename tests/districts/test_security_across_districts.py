"""The security rules hold across districts: a city operator manages every district of the city
(dispatch, reassignment, per-worker KPIs, photos, separation of duties), a district's users stay in
their district, the Open311 public channel keeps its rules per jurisdiction, and the city account's
tokens carry its level and districts through refresh and revocation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.service import set_user_active
from gis_api.config import Settings
from tests import tiny_district
from tests.api.app_fixtures import PASSWORD
from tests.districts.conftest import OTHER_POINT, Two

A, B, CITY = tiny_district.DISTRICT, tiny_district.OTHER, tiny_district.CITY
MARCH = {"start": "2026-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


def registered_in_b(two: Two, user: str = "city_op") -> int:
    """A case at district B's point, accepted and registered by `user`."""
    created = two.api.as_(user).report(where=OTHER_POINT)
    assert created.status_code == 201, created.text
    case_id = int(created.json()["id"])
    for action in ("accept", "register"):
        assert two.api.as_(user).post(f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    return case_id


def audit(session: Session, action: str) -> list[Any]:
    return session.execute(
        text("SELECT username, count, client_addr FROM audit_log WHERE action = :a ORDER BY id"),
        {"a": action},
    ).all()


def test_city_operator_dispatches_and_reassigns_in_every_district(two: Two) -> None:
    b_case = registered_in_b(two)
    decided = two.api.as_("city_op").post(f"/cases/{b_case}/dispatch", {})
    assert decided.status_code == 200 and decided.json()["member_id"] == two.other_member
    a_case = two.api.registered()
    assert two.api.as_("city_op").post(f"/cases/{a_case}/dispatch", {}).status_code == 200
    neighbour = two.api.world.members["neighbour"]
    moved = two.api.as_("city_op").post(f"/cases/{a_case}/reassign", {"member_id": neighbour})
    assert moved.status_code == 200 and moved.json()["assigned_member_id"] == neighbour
    # B's operator does not even see A's case, let alone assign A's members
    assert (
        two.api.as_("other_op").post(f"/cases/{a_case}/reassign", {"member_id": neighbour}).status_code == 404
    )
    refused = two.api.as_("other_op").post(f"/cases/{b_case}/reassign", {"member_id": neighbour})
    assert refused.status_code == 404 and f"not found in street {tiny_district.OTHER_WEST}" in refused.text


def test_city_operator_who_disposed_cannot_verify(two: Two) -> None:
    case_id = registered_in_b(two)
    city = two.api.as_("city_op")
    assert city.post(f"/cases/{case_id}/dispatch", {}).status_code == 200
    for action in ("start", "dispose"):
        assert city.post(f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    assert "verify" not in city.get(f"/cases/{case_id}").json()["allowed_actions"]
    refused = city.post(f"/cases/{case_id}/actions/verify", {})
    assert refused.status_code == 403 and "separation of duties" in refused.json()["detail"]
    assert two.api.as_("other_op").post(f"/cases/{case_id}/actions/verify", {}).status_code == 200


def test_worker_kpis_for_the_managers_of_each_district(two: Two, db_session: Session) -> None:
    def names(user: str) -> set[str]:
        answer = two.api.as_(user).get("/assessment/kpis", params={"level": "worker", **MARCH})
        assert answer.status_code == 200, answer.text
        return {row["name"].split(" (")[0] for row in answer.json()["rows"]}  # "name (home grid)"

    assert {"网格员乙", "洪山网格员"} <= names("city_op")
    assert names("city_admin") == names("city_op")
    assert names("other_op") == {"洪山网格员"}
    assert "洪山网格员" not in names("west_op")
    planner = two.api.as_("other_planner").get("/assessment/kpis", params={"level": "worker", **MARCH})
    assert planner.status_code == 403 and "not per named worker" in planner.json()["detail"]
    city_rows = [row for row in audit(db_session, "kpis.read") if row.username == "city_op"]
    assert city_rows and all(row.client_addr == "testclient" for row in city_rows)


def test_city_ranking_names_streets_never_workers_and_is_audited(two: Two, db_session: Session) -> None:
    two.api.as_("other_op").report(where=OTHER_POINT)
    ranking = two.api.as_("city_op").get("/assessment/streets/ranking?month=2026-03").json()
    assert {row["district_code"] for row in ranking["rows"]} == {A, B}
    fields = {"rank", "street_code", "street_name", "district_code", "district_name", "score", "figures"}
    assert all(set(row) == fields for row in ranking["rows"])
    assert "网格员" not in str(ranking)
    assert audit(db_session, "ranking.read")[-1] == ("city_op", 4, "testclient")
    planner = two.api.as_("other_planner").get("/assessment/streets/ranking?month=2026-03")
    assert {row["district_code"] for row in planner.json()["rows"]} == {B}


def test_photos_of_a_district_for_its_readers_and_the_city(
    two: Two, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path})
    uploaded = two.api.as_("other_op").post("/media", files={"file": ("p.png", PHOTO, "image/png")})
    ref = uploaded.json()["ref"]
    assert two.api.as_("other_op").report(where=OTHER_POINT, media=[ref]).status_code == 201
    for user, status in (("city_op", 200), ("other_west_op", 200), ("west_op", 404), ("admin", 404)):
        assert two.api.as_(user).get(f"/media/{ref}").status_code == status, user
    assert two.api.as_("other_planner").get(f"/media/{ref}").status_code == 403


def test_open311_jurisdictions_keep_the_public_channel_rules(two: Two) -> None:
    client, feed = two.api.client, "/open311/v2/requests.json"
    internal = two.api.as_("other_op").report(where=OTHER_POINT, description="内部巡查").json()["id"]
    assert internal not in [r["service_request_id"] for r in client.get(f"{feed}?jurisdiction_id={B}").json()]
    fields = {"service_code": "E0201", "long": str(OTHER_POINT[0]), "lat": str(OTHER_POINT[1])}
    fields |= {"jurisdiction_id": CITY, "description": "井盖缺失 联系13812345678"}
    assert client.post(feed, data=fields).status_code == 403  # no api_key, whatever the jurisdiction
    posted = client.post(feed, data=two.api.keyed(fields))
    assert posted.status_code == 201, posted.text
    [listed] = client.get(f"{feed}?jurisdiction_id={B}").json()
    assert listed["description"] == "井盖缺失 联系138******78"
    assert listed["agency_responsible"].startswith("洪山区 ")
    assert (listed["lat"], listed["long"]) == (round(OTHER_POINT[1], 4), round(OTHER_POINT[0], 4))
    assert client.get(f"{feed}?jurisdiction_id={A}").json() == []
    bad = client.get(feed, params={"jurisdiction_id": f"{B}\x01"})
    assert bad.status_code == 400 and "jurisdiction_id contains the control character U+0001" in bad.text
    assert client.get("/open311/v2/services.xml", params={"jurisdiction_id": "\x00"}).status_code == 400
    public = two.api.as_("city_op").post(f"/cases/{internal}/visibility", {"public": True})
    assert public.status_code == 200
    assert internal in [r["service_request_id"] for r in client.get(f"{feed}?jurisdiction_id={CITY}").json()]


def test_the_city_accounts_tokens_carry_its_districts_through_refresh_and_revocation(
    two: Two, db_session: Session
) -> None:
    client = two.api.client
    started = client.post("/auth/token", data={"username": "city_op", "password": PASSWORD})
    assert started.status_code == 200, started.text
    claims = jwt.decode(started.json()["access_token"], options={"verify_signature": False})
    assert (claims["scope"], claims["level"], claims["districts"]) == (CITY, "city", CITY)
    renewed = client.post("/auth/refresh", data={"refresh_token": started.json()["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    again = jwt.decode(renewed.json()["access_token"], options={"verify_signature": False})
    assert (again["scope"], again["level"], again["districts"]) == (CITY, "city", CITY)
    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    me = client.get("/auth/me", headers=headers).json()
    assert (me["scope_level"], me["scope_name"], [d["code"] for d in me["districts"]]) == (
        "city",
        "武汉市",
        [A, B],
    )
    assert "city_operator" in me["definitions"]["worker_kpi_readers"]
    assert "planner" not in me["definitions"]["worker_kpi_readers"]
    set_user_active(db_session, "city_op", False)
    assert client.get("/auth/me", headers=headers).status_code == 401
    assert (
        client.post("/auth/refresh", data={"refresh_token": renewed.json()["refresh_token"]}).status_code
        == 401
    )

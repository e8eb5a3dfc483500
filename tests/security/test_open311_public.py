"""The Open311 feed as the public sees it: only public cases, the reporter's own words, ~10 m, no
internal notes or photos, working media links, api_key and rate limits, valid JSON and XML."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.service import Actor, create_case
from gis_api.config import Settings
from gis_api.open311.keys import add_key, revoke_key
from tests.cases.fixtures import INCIDENT
from tests.security.api_world import Api

BASE = "/open311/v2"
FORM = {"service_code": "E0201", "lat": f"{INCIDENT[1]:.7f}", "long": f"{INCIDENT[0]:.7f}"}
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(40, 80))
OPERATOR_PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(80, 120))


@pytest.fixture
def public(api: Api, app: FastAPI, settings: Settings, tmp_path: Path) -> Api:
    """The API world with uploads in a temporary folder and a configured public base URL."""
    app.state.settings = settings.model_copy(
        update={"var_dir": tmp_path, "public_base_url": "https://wangge.example.gov.cn"}
    )
    return api


def feed(api: Api, query: str = "") -> list[dict[str, Any]]:
    response = api.client.get(f"{BASE}/requests.json{query}")
    assert response.status_code == 200, response.text
    return list(response.json())


def post311(api: Api, **fields: Any) -> Any:
    files = fields.pop("files", None)
    return api.client.post(f"{BASE}/requests.json", data=api.keyed({**FORM, **fields}), files=files)


def test_only_public_cases_are_listed_and_operators_toggle_them(public: Api) -> None:
    resident = post311(public, description="路灯不亮").json()[0]["service_request_id"]
    internal = public.as_("west_op").report(description="张三 身份证 420106198001011234 电话 13812345678")
    internal_id = internal.json()["id"]
    assert internal.json()["public"] is False
    assert [r["service_request_id"] for r in feed(public)] == [resident]
    assert public.client.get(f"{BASE}/requests/{internal_id}.json").status_code == 404
    shown = public.as_("west_op").post(f"/cases/{internal_id}/visibility", {"public": True})
    assert shown.status_code == 200 and shown.json()["public"] is True
    listed = {r["service_request_id"]: r for r in feed(public)}
    assert set(listed) == {resident, internal_id}
    # a published operator text keeps no ID-card or mobile number
    assert listed[internal_id]["description"] == "张三 身份证 420*************34 电话 138******78"
    public.as_("west_op").post(f"/cases/{internal_id}/visibility", {"public": False})
    assert [r["service_request_id"] for r in feed(public)] == [resident]
    actions = [e["action"] for e in public.get(f"/cases/{internal_id}").json()["events"]]
    assert actions == ["report", "publish", "unpublish"]
    refused = public.as_("west_worker").post(f"/cases/{internal_id}/visibility", {"public": True})
    assert refused.status_code == 403


def test_feed_has_rounded_points_fixed_status_phrases_and_no_internal_notes(public: Api) -> None:
    case_id = post311(public, description="井盖缺失").json()[0]["service_request_id"]
    public.post(f"/cases/{case_id}/actions/void", {"note": "内部备注：联系人李四 13900001111"})
    [entry] = feed(public, f"?service_request_id={case_id}")
    assert (entry["lat"], entry["long"]) == (round(INCIDENT[1], 4), round(INCIDENT[0], 4))
    assert entry["status_notes"] == "已作废" and "李四" not in str(entry)
    assert entry["description"] == "井盖缺失"


def test_description_is_the_reporters_own_text(public: Api, db_session: Session) -> None:
    case_id = post311(public, description="原话").json()[0]["service_request_id"]
    db_session.execute(
        text("UPDATE incident SET description = 'edited by someone' WHERE id = :i"), {"i": case_id}
    )
    assert feed(public)[0]["description"] == "原话"  # read from the append-only report event


def test_media_url_is_a_public_copy_of_the_residents_photo_only(public: Api) -> None:
    posted = post311(public, files={"media": ("p.png", PHOTO, "image/png")})
    case_id = posted.json()[0]["service_request_id"]
    url = feed(public)[0]["media_url"]
    assert url.startswith("https://wangge.example.gov.cn/open311/v2/media/")
    photo = public.client.get(url.removeprefix("https://wangge.example.gov.cn"))
    assert (
        photo.status_code == 200 and photo.content == PHOTO and photo.headers["content-type"] == "image/png"
    )
    # an operator's photo on the same public case is internal: not listed, not served
    ref = public.post("/media", files={"file": ("o.png", OPERATOR_PHOTO, "image/png")}).json()["ref"]
    for action in ("accept", "register"):
        public.post(f"/cases/{case_id}/actions/{action}", {"media": [ref]})
    digest = ref.rsplit(":", 1)[1]
    assert public.client.get(f"{BASE}/media/{digest}").status_code == 404
    assert feed(public)[0]["media_url"] == url
    # nor is a resident's photo once the case is withdrawn from the feed
    public.post(f"/cases/{case_id}/visibility", {"public": False})
    assert public.client.get(url.removeprefix("https://wangge.example.gov.cn")).status_code == 404


@pytest.mark.parametrize("media", ["javascript:alert(1)", "data:text/html,<script>", "file:///etc/passwd"])
def test_non_web_media_references_are_refused_everywhere(public: Api, media: str) -> None:
    assert post311(public, media_url=media).status_code == 400
    report = public.report(media=[media])
    assert report.status_code == 422 and "stored photo" in report.text
    assert feed(public) == []


def test_control_characters_are_refused_and_the_xml_feed_stays_valid(
    public: Api, db_session: Session
) -> None:
    refused = post311(public, description="bad\x01text\x1b[31m")
    assert refused.status_code == 400 and "U+0001" in refused.json()[0]["description"]
    assert post311(public, description="多行\n描述\t可以").status_code == 201
    # a row stored before the check (or by another program) still yields a well-formed feed
    legacy = Actor("open311:old-bridge", "resident")
    create_case(db_session, category_code="E0201", lon=INCIDENT[0], lat=INCIDENT[1], actor=legacy,
                description="old\x01row\x0b\ufffe", source="open311")  # fmt: skip
    xml = public.client.get(f"{BASE}/requests.xml")
    root = ElementTree.fromstring(xml.content)
    descriptions = [element.text for element in root.iter("description")]
    assert "oldrow" in descriptions and "多行\n描述\t可以" in descriptions


def test_api_key_is_required_and_revocable(public: Api, db_session: Session) -> None:
    assert public.client.post(f"{BASE}/requests.json", data=FORM).status_code == 403
    wrong = public.client.post(f"{BASE}/requests.json", data={**FORM, "api_key": "wg311_guess"})
    assert wrong.status_code == 403 and "not valid" in wrong.json()[0]["description"]
    second = add_key(db_session, "residents-page")
    made = public.client.post(f"{BASE}/requests.xml", data={**FORM, "api_key": second, "description": "x"})
    assert made.status_code == 201
    reporter = db_session.execute(text("SELECT reporter FROM incident ORDER BY id DESC LIMIT 1")).scalar_one()
    assert reporter == "open311:residents-page"
    revoke_key(db_session, "residents-page")
    assert public.client.post(f"{BASE}/requests.json", data={**FORM, "api_key": second}).status_code == 403
    stored = db_session.execute(
        text("SELECT key_hash FROM api_key WHERE name = 'residents-page'")
    ).scalar_one()
    assert second not in stored and len(stored) == 64  # only the digest is kept


def test_posts_are_rate_limited_per_address_and_per_key(public: Api, app: FastAPI) -> None:
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"open311_per_minute_per_address": 3})
    statuses = [post311(public, description=f"#{n}").status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    limited = post311(public, description="again")
    assert int(limited.headers["Retry-After"]) >= 1 and "too many requests" in limited.text
    app.state.settings = settings.model_copy(
        update={"open311_per_minute_per_address": 1000, "open311_per_minute_per_key": 2}
    )
    # the key's own bucket (a whole channel) runs out independently of the address
    statuses = [post311(public, description=f"k{n}").status_code for n in range(3)]
    assert statuses[-1] == 429

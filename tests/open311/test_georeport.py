"""GeoReport v2 over HTTP as an unmodified Open311 client would use it: form posts, JSON and XML."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.loaders.chinese_datums import from_wgs84
from tests.cases.fixtures import GRID_SW, INCIDENT
from tests.security.api_world import EAST_INCIDENT, Api

BASE = "/open311/v2"
FORM = {
    "service_code": "E0201",
    "lat": str(INCIDENT[1]),
    "long": str(INCIDENT[0]),
    "description": "墙上小广告",
}


def case_count(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM incident")).scalar_one())


def xml(response: object) -> ElementTree.Element:
    content = response.content  # type: ignore[attr-defined]
    assert content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(content)


def test_services_in_json_and_xml(api: Api) -> None:
    listed = api.client.get(f"{BASE}/services.json")
    assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/json")
    by_code = {s["service_code"]: s for s in listed.json()}
    assert by_code["E0201"]["service_name"] == "非法小广告"
    assert by_code["E0201"]["type"] == "realtime" and by_code["E0201"]["metadata"] is False
    root = xml(api.client.get(f"{BASE}/services.xml?jurisdiction_id=420106"))
    assert root.tag == "services" and len(root.findall("service")) == len(by_code)
    assert root.find("service/service_code") is not None
    definition = api.client.get(f"{BASE}/services/E0201.xml")
    assert xml(definition).findtext("service_code") == "E0201"
    missing = api.client.get(f"{BASE}/services/X0000.json")
    assert missing.status_code == 404 and missing.json() == [
        {"code": 404, "description": "service_code 'X0000' not found"}
    ]
    wrong = api.client.get(f"{BASE}/services.json?jurisdiction_id=110101")
    assert wrong.status_code == 404 and "420106" in wrong.json()[0]["description"]
    assert api.client.get(f"{BASE}/services.yaml").status_code == 404


def test_form_post_then_follow_the_request(api: Api, db_session: Session) -> None:
    created = api.client.post(f"{BASE}/requests.json", data=api.keyed({**FORM, "jurisdiction_id": "420106"}))
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    assert set(created.json()[0]) == {"service_request_id", "service_notice", "account_id", "token"}
    retried = api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM))  # the same submission re-sent
    assert retried.status_code == 200 and retried.json()[0]["service_request_id"] == request_id
    assert "token" not in retried.json()[0]  # same content is no proof of being the reporter
    assert case_count(db_session) == 1
    found = api.client.get(f"{BASE}/requests/{request_id}.json").json()
    assert len(found) == 1
    request = found[0]
    assert (request["status"], request["service_code"], request["description"]) == (
        "open",
        "E0201",
        "墙上小广告",
    )
    assert GRID_SW in request["agency_responsible"] and "积玉桥街道" in request["agency_responsible"]
    assert (request["long"], request["lat"]) == pytest.approx(INCIDENT, abs=1e-4)
    detail = api.get(f"/cases/{request_id}").json()
    assert detail["source"] == "open311" and detail["events"][0]["role"] == "resident"
    api.post(f"/cases/{request_id}/actions/void", {"note": "重复上报"})
    closed = xml(api.client.get(f"{BASE}/requests/{request_id}.xml"))
    assert closed.tag == "service_requests"
    assert closed.findtext("request/status") == "closed"
    assert closed.findtext("request/status_notes") == "已作废"  # the fixed phrase, never the note


def test_json_post_xml_answer_idempotency_key_and_gcj02(api: Api, db_session: Session) -> None:
    lon, lat = from_wgs84("gcj02", [INCIDENT[0]], [INCIDENT[1]])
    body = {"service_code": "E0102", "lat": float(lat[0]), "long": float(lon[0]), "crs": "gcj02"}
    key = {"Idempotency-Key": "app-42"}
    first = api.client.post(f"{BASE}/requests.xml", json=api.keyed(body), headers=key)
    assert first.status_code == 201
    request_id = xml(first).findtext("request/service_request_id")
    again = api.client.post(
        f"{BASE}/requests.xml", json=api.keyed({**body, "description": "edited"}), headers=key
    )
    assert again.status_code == 200 and xml(again).findtext("request/service_request_id") == request_id
    shown = api.client.get(f"{BASE}/requests/{request_id}.json").json()[0]
    assert (shown["long"], shown["lat"]) == pytest.approx(INCIDENT, abs=1e-4)  # WGS-84, ~10 m
    assert case_count(db_session) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"service_code": ""}, "service_code is required"),
        ({"service_code": "X9999"}, "unknown category 'X9999'"),
        ({"lat": "30.9", "long": "114.9"}, "outside every grid"),
        ({"crs": "epsg3857"}, "unknown CRS 'epsg3857'"),
        ({"lat": "north"}, "lat must be a decimal number"),
        ({"lat": "", "long": "", "address_string": "中山路1号"}, "does not geocode addresses"),
        ({"media_url": "file:///etc/passwd"}, "media_url must be an http(s) URL"),
    ],
)
def test_bad_requests_are_400_in_the_spec_format(
    api: Api, db_session: Session, fields: dict[str, str], message: str
) -> None:
    response = api.client.post(f"{BASE}/requests.json", data=api.keyed({**FORM, **fields}))
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["code"] == 400 and message in error["description"]
    assert case_count(db_session) == 0


def test_malformed_json_and_wrong_jurisdiction(api: Api, db_session: Session) -> None:
    broken = api.client.post(
        f"{BASE}/requests.xml", content=b'{"service_code": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and "malformed JSON" in (xml(broken).findtext("error/description") or "")
    wrong = api.client.post(f"{BASE}/requests.json", data=api.keyed({**FORM, "jurisdiction_id": "999999"}))
    assert wrong.status_code == 404
    assert case_count(db_session) == 0


def test_list_requests_with_filters(api: Api) -> None:
    west = api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM)).json()[0]["service_request_id"]
    east_form = {**FORM, "service_code": "E0102", "lat": str(EAST_INCIDENT[1]), "long": str(EAST_INCIDENT[0])}
    east = api.client.post(f"{BASE}/requests.json", data=api.keyed(east_form)).json()[0]["service_request_id"]

    def ids(query: str) -> list[int]:
        return [r["service_request_id"] for r in api.client.get(f"{BASE}/requests.json{query}").json()]

    assert sorted(ids("")) == sorted([west, east])
    assert ids("?service_code=E0102") == [east]
    assert ids(f"?service_request_id={west},{east}&status=open") in ([west, east], [east, west])
    assert ids("?status=closed") == []
    assert ids("?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    root = xml(api.client.get(f"{BASE}/requests.xml?service_code=E0201"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [str(west)]
    assert api.client.get(f"{BASE}/requests.json?status=pending").status_code == 400
    assert api.client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400
    assert api.client.get(f"{BASE}/requests/abc.json").status_code == 404

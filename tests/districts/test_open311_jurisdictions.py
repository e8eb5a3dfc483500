"""Open311 jurisdictions: one per district (6 digits) and one per city (4 digits), names from the
database; a district refuses points outside it, the city routes a request to the right district."""

from __future__ import annotations

from tests import tiny_district
from tests.districts.conftest import OTHER_POINT, OTHER_SW_GRID, Two
from tests.security.api_world import INCIDENT

BASE = "/open311/v2"
A, B, CITY = tiny_district.DISTRICT, tiny_district.OTHER, tiny_district.CITY


def form(where: tuple[float, float], jurisdiction: str | None, description: str) -> dict[str, str]:
    fields = {
        "service_code": "E0201",
        "long": str(where[0]),
        "lat": str(where[1]),
        "description": description,
    }
    return fields | ({"jurisdiction_id": jurisdiction} if jurisdiction else {})


def test_discovery_names_every_jurisdiction_from_the_database(two: Two) -> None:
    client = two.api.client
    listed = client.get("/open311/discovery.json").json()
    assert {j["jurisdiction_id"]: j["name"] for j in listed["jurisdictions"]} == {
        CITY: "武汉市",
        A: "武昌区",
        B: "洪山区",
    }
    assert listed["contact"] == "武汉市城市运行管理中心"  # one city: its name
    assert (
        client.get(f"/open311/discovery.json?jurisdiction_id={B}").json()["contact"]
        == "洪山区城市运行管理中心"
    )
    unknown = client.get(f"{BASE}/services.json?jurisdiction_id=310101")
    assert unknown.status_code == 404 and "use one of 4201, 420106, 420111" in unknown.text


def test_district_refuses_points_outside_and_city_routes_them(two: Two) -> None:
    client = two.api.client
    refused = client.post(f"{BASE}/requests.json", data=two.api.keyed(form(OTHER_POINT, A, "越界")))
    assert refused.status_code == 400
    detail = refused.json()[0]["description"]
    assert (
        f"lies in district {B}" in detail
        and f"jurisdiction_id {A} (武昌区) covers only its own area" in detail
    )
    routed = client.post(f"{BASE}/requests.json", data=two.api.keyed(form(OTHER_POINT, CITY, "市级受理")))
    assert routed.status_code == 201, routed.text
    b_request = routed.json()[0]["service_request_id"]
    own = client.post(f"{BASE}/requests.json", data=two.api.keyed(form(INCIDENT, A, "区级受理")))
    assert own.status_code == 201, own.text
    a_request = own.json()[0]["service_request_id"]
    in_b = client.get(f"{BASE}/requests.json?jurisdiction_id={B}").json()
    assert [r["service_request_id"] for r in in_b] == [b_request]
    assert (
        in_b[0]["agency_responsible"].startswith("洪山区 洪山街道")
        and OTHER_SW_GRID in in_b[0]["agency_responsible"]
    )
    in_city = {
        r["service_request_id"] for r in client.get(f"{BASE}/requests.json?jurisdiction_id={CITY}").json()
    }
    assert in_city == {a_request, b_request}
    assert client.get(f"{BASE}/requests/{b_request}.json?jurisdiction_id={A}").status_code == 404
    assert client.get(f"{BASE}/requests/{b_request}.json?jurisdiction_id={B}").status_code == 200

"""GET /locate and POST /locate/batch in each datum, and every kind of bad input."""

from collections.abc import Callable
from typing import Literal

import pytest
from fastapi.testclient import TestClient

from gis_api.loaders.chinese_datums import from_wgs84
from tests import tiny_district
from tests.api.app_fixtures import EAST_SOUTH_GRID, WEST_NORTH_GRID, WEST_SOUTH_GRID

Headers = Callable[[str], dict[str, str]]
# WGS84 point in the west street's south grid; its GCJ-02 twin is ~550 m east, in the east street
WEST_SOUTH_POINT = (114.305, 30.545)


def locate(client: TestClient, headers: Headers, **params: object) -> dict:
    response = client.get("/locate", params=params, headers=headers("west_worker"))
    assert response.status_code == 200, response.text
    return response.json()


def test_wgs84_point_gives_street_community_and_grid(client: TestClient, auth_headers: Headers) -> None:
    lon, lat = WEST_SOUTH_POINT
    found = locate(client, auth_headers, lon=lon, lat=lat)
    assert found["grid"] == {"code": WEST_SOUTH_GRID, "name": "第01网格"}
    assert found["community"] == {"code": tiny_district.WEST + "001", "name": "积玉桥社区"}
    assert found["street"] == {"code": tiny_district.WEST, "name": "积玉桥街道"}
    assert found["method"] == "memory"


@pytest.mark.parametrize(("datum", "crs"), [("gcj02", "gcj02"), ("bd09", "bd09"), ("gcj02", "GCJ02")])
def test_offset_datums_are_converted_first(
    client: TestClient, auth_headers: Headers, datum: Literal["gcj02", "bd09"], crs: str
) -> None:
    lon, lat = (float(v) for v in from_wgs84(datum, *WEST_SOUTH_POINT))
    as_if_wgs84 = locate(client, auth_headers, lon=lon, lat=lat)
    assert as_if_wgs84["grid"]["code"] == EAST_SOUTH_GRID  # the offset alone moves it ~500 m east
    found = locate(client, auth_headers, lon=lon, lat=lat, crs=crs)
    assert found["grid"]["code"] == WEST_SOUTH_GRID
    assert found["wgs84_lon"] == pytest.approx(WEST_SOUTH_POINT[0], abs=1e-7)
    assert found["wgs84_lat"] == pytest.approx(WEST_SOUTH_POINT[1], abs=1e-7)


def test_point_on_shared_edge_gets_one_grid(client: TestClient, auth_headers: Headers) -> None:
    found = locate(client, auth_headers, lon=114.305, lat=30.55)
    assert found["grid"]["code"] in {WEST_SOUTH_GRID, WEST_NORTH_GRID}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lon=114.5&lat=30.5", "is outside every loaded district"),
        ("lon=114.305&lat=30.545&crs=utm", "query parameter crs: Input should be 'wgs84', 'gcj02' or 'bd09'"),
        ("lon=abc&lat=30.5", "query parameter lon"),
        ("lon=114.3&lat=", "query parameter lat"),
        ("lon=114.3", "query parameter lat: Field required"),
        ("lon=nan&lat=30.5", "query parameter lon"),
        ("lon=inf&lat=30.5", "query parameter lon"),
        ("lon=181&lat=30.5", "query parameter lon: Input should be less than or equal to 180"),
        ("lon=114.3&lat=-91", "query parameter lat"),
        ("lon=1e400&lat=30.5", "query parameter lon"),
        ("lon=114.3,30.5&lat=30.5", "query parameter lon"),
    ],
)
def test_bad_locate_input_is_422_with_message(
    client: TestClient, auth_headers: Headers, query: str, expected: str
) -> None:
    response = client.get(f"/locate?{query}", headers=auth_headers("west_worker"))
    assert response.status_code == 422
    assert expected in response.text


def test_gap_inside_district_is_explained(client: TestClient, auth_headers: Headers, connection) -> None:
    from sqlalchemy import text

    connection.execute(text("DELETE FROM household"))
    connection.execute(text("DELETE FROM grid WHERE code = :c"), {"c": WEST_SOUTH_GRID})
    response = client.get("/locate", params={"lon": 114.305, "lat": 30.545}, headers=auth_headers("admin"))
    assert response.status_code == 422
    assert "inside district 420106 but in no grid of its active plan" in response.json()["detail"]


def test_batch_locates_each_point_and_explains_misses(client: TestClient, auth_headers: Headers) -> None:
    gcj_lon, gcj_lat = (float(v) for v in from_wgs84("gcj02", *WEST_SOUTH_POINT))
    body = {"crs": "gcj02", "points": [{"lon": gcj_lon, "lat": gcj_lat}, {"lon": 114.6, "lat": 30.5}]}
    response = client.post("/locate/batch", json=body, headers=auth_headers("admin"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["located"] == 1
    assert result["results"][0]["placement"]["grid"]["code"] == WEST_SOUTH_GRID
    assert result["results"][1]["placement"] is None
    assert "outside every loaded district" in result["results"][1]["error"]
    assert len(result["plan_ids"]) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"points": []}, "body field points"),
        ({"points": [{"lon": "x", "lat": 30}]}, "body field points.0.lon"),
        ({"points": [{"lon": 114.3}]}, "body field points.0.lat"),
        ({"crs": "wgs", "points": [{"lon": 114.3, "lat": 30.5}]}, "body field crs"),
        ({"points": [{"lon": 114.3, "lat": 30.5}] * 10_001}, "body field points"),
        ("not json", "body"),
    ],
)
def test_bad_batch_is_422(client: TestClient, auth_headers: Headers, body: object, expected: str) -> None:
    headers = auth_headers("admin")
    if isinstance(body, str):
        response = client.post(
            "/locate/batch", content=body, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = client.post("/locate/batch", json=body, headers=headers)
    assert response.status_code == 422
    assert expected in response.text


GARBAGE = [
    "",
    "%00",
    "\x00",
    "9" * 30,
    "1" * 5000,
    "-0",
    "0x10",
    "１１４.３",
    "114.3;DROP TABLE grid",
    "[]",
    "{}",
]


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_never_gives_a_server_error(client: TestClient, auth_headers: Headers, value: str) -> None:
    headers = auth_headers("admin")
    for path in ("/locate", "/households", "/layers/grids"):
        for name in ("lon", "lat", "crs", "bbox", "limit", "plan_id", "simplify", "after_id"):
            response = client.get(path, params={"lon": 114.3, "lat": 30.55, name: value}, headers=headers)
            assert response.status_code < 500, (path, name, value, response.text)


def test_locate_needs_a_token(client: TestClient, areas: dict[str, int]) -> None:
    response = client.get("/locate", params={"lon": 114.305, "lat": 30.545})
    assert response.status_code == 401

"""GET /layers/streets|communities|grids on the tiny district."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests import tiny_district
from tests.api.app_fixtures import WEST_NORTH_GRID, WEST_SOUTH_GRID

Headers = Callable[[str], dict[str, str]]


def layer(client: TestClient, headers: Headers, name: str, **params: object) -> dict:
    response = client.get(f"/layers/{name}", params=params, headers=headers("planner"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return response.json()


def by_code(collection: dict) -> dict[str, dict]:
    return {feature["properties"]["code"]: feature for feature in collection["features"]}


def test_streets_have_codes_parent_and_household_counts(client: TestClient, auth_headers: Headers) -> None:
    streets = by_code(layer(client, auth_headers, "streets"))
    assert set(streets) == {tiny_district.WEST, tiny_district.EAST}
    west = streets[tiny_district.WEST]["properties"]
    assert west == {
        "code": tiny_district.WEST,
        "name": "积玉桥街道",
        "parent_code": "420106",
        "households": 2,
        "children": 1,
    }


def test_communities_count_households_and_grids(client: TestClient, auth_headers: Headers) -> None:
    collection = layer(client, auth_headers, "communities")
    assert collection["households_source"] == "live"
    west = by_code(collection)[tiny_district.WEST + "001"]["properties"]
    assert (west["parent_code"], west["households"], west["children"]) == (tiny_district.WEST, 2, 2)


def test_grids_count_households_live(
    client: TestClient, auth_headers: Headers, connection: Connection, areas: dict[str, int]
) -> None:
    connection.execute(
        text(
            "INSERT INTO household (id, grid_id, geom, district_code) VALUES "
            "(100, :g, ST_SetSRID(ST_MakePoint(114.301, 30.541), 4326), '420106')"
        ),
        {"g": areas[WEST_SOUTH_GRID]},
    )
    grids = by_code(layer(client, auth_headers, "grids"))
    assert len(grids) == 4
    assert grids[WEST_SOUTH_GRID]["properties"]["households"] == 2
    assert grids[WEST_NORTH_GRID]["properties"]["households"] == 1
    assert grids[WEST_SOUTH_GRID]["properties"]["parent_code"] == tiny_district.WEST + "001"
    assert grids[WEST_SOUTH_GRID]["geometry"]["type"] == "MultiPolygon"


def test_filters_by_street_community_and_bbox(client: TestClient, auth_headers: Headers) -> None:
    east_grids = by_code(layer(client, auth_headers, "grids", street=tiny_district.EAST))
    assert all(code.startswith(tiny_district.EAST) for code in east_grids)
    assert len(east_grids) == 2
    community = layer(client, auth_headers, "grids", community=tiny_district.WEST + "001")
    assert set(by_code(community)) == {WEST_SOUTH_GRID, WEST_NORTH_GRID}
    # a box strictly inside the west street's south grid
    south_west = layer(client, auth_headers, "grids", bbox="114.302,30.542,114.303,30.543")
    assert set(by_code(south_west)) == {WEST_SOUTH_GRID}


def test_coordinates_have_at_most_six_decimals(
    client: TestClient, connection: Connection, auth_headers: Headers, areas: dict[str, int]
) -> None:
    connection.execute(
        text("UPDATE street SET geom = ST_Multi(ST_Translate(geom, 0.0000001234, 0)) WHERE code = :c"),
        {"c": tiny_district.WEST},
    )
    streets = by_code(layer(client, auth_headers, "streets"))
    ring = streets[tiny_district.WEST]["geometry"]["coordinates"][0][0]
    assert all(len(repr(lon).split(".")[1]) <= 6 for lon, _ in ring)


def test_simplify_drops_vertices_below_tolerance(
    client: TestClient, auth_headers: Headers, connection: Connection, areas: dict[str, int]
) -> None:
    # a vertex ~0.2 m off the straight south edge
    ring = "114.3 30.54,114.305 30.540002,114.31 30.54,114.31 30.55,114.3 30.55,114.3 30.54"
    wiggly = f"SRID=4326;MULTIPOLYGON((({ring})))"
    connection.execute(text("UPDATE grid SET geom = :g WHERE code = :c"), {"g": wiggly, "c": WEST_SOUTH_GRID})
    exact = by_code(layer(client, auth_headers, "grids"))[WEST_SOUTH_GRID]["geometry"]
    simple = by_code(layer(client, auth_headers, "grids", simplify=5))[WEST_SOUTH_GRID]["geometry"]
    assert len(exact["coordinates"][0][0]) == 6
    assert simple["type"] == "MultiPolygon"
    assert len(simple["coordinates"][0][0]) == 5


def test_other_plan_uses_stored_counts(
    client: TestClient, auth_headers: Headers, connection: Connection, areas: dict[str, int]
) -> None:
    draft = connection.execute(
        text(
            "INSERT INTO plan (name, status, district_code) VALUES ('draft', 'draft', '420106') RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO community (plan_id, code, name, street_code, households, geom) "
            "SELECT :p, code, name, street_code, 77, geom FROM community WHERE plan_id = :a"
        ),
        {"p": draft, "a": areas["plan"]},
    )
    collection = layer(client, auth_headers, "communities", plan_id=draft)
    assert collection["households_source"] == "stored"
    assert {f["properties"]["households"] for f in collection["features"]} == {77}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"bbox": "1,2,3"}, "query parameter bbox"),
        ({"bbox": "114.4,30.5,114.3,30.6"}, "min < max"),
        ({"bbox": "a,b,c,d"}, "ASCII digits"),
        ({"street": "42010600"}, "query parameter street"),
        ({"simplify": "-1"}, "query parameter simplify"),
        ({"plan_id": "x"}, "query parameter plan_id"),
        ({"colour": "red"}, "query parameter colour"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    client: TestClient, auth_headers: Headers, params: dict[str, str], expected: str
) -> None:
    response = client.get("/layers/grids", params=params, headers=auth_headers("planner"))
    assert response.status_code == 422
    assert expected in response.text


def test_unknown_plan_is_404(client: TestClient, auth_headers: Headers) -> None:
    response = client.get("/layers/grids", params={"plan_id": 999999}, headers=auth_headers("admin"))
    assert response.status_code == 404
    assert response.json()["detail"] == "plan 999999 does not exist"


def test_layers_need_a_token(client: TestClient, areas: dict[str, int]) -> None:
    response = client.get("/layers/streets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"

"""GET /tiles/{layer}/{z}/{x}/{y}.mvt on the tiny district: content, scope, roles, ETag/304."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.plans import service as plans
from tests import tiny_district
from tests.plans.test_service import draft_split_east_west
from tests.tiles.mvt import decode, lon_lat, tile_of

Headers = Callable[[str], dict[str, str]]
# z14 holds the whole tiny district in one tile (114.3017-114.3237 would cut it: use z13)
WHOLE = tile_of(114.31, 30.55, 13)


def url(layer: str, tile: tuple[int, int, int], query: str = "") -> str:
    z, x, y = tile
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt{query}"


def features(client: TestClient, headers: dict[str, str], layer: str, tile: tuple[int, int, int]) -> list:
    response = client.get(url(layer, tile), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = decode(response.content)
    return layers[layer].features if layer in layers else []


def test_boundary_tiles_carry_codes_names_and_counts(client: TestClient, auth_headers: Headers) -> None:
    headers = auth_headers("west_op")
    streets = features(client, headers, "streets", WHOLE)
    assert sorted(f.properties["name"] for f in streets) == ["杨园街道", "积玉桥街道"]
    assert {f.geometry_type for f in streets} == {"Polygon"}
    grids = features(client, headers, "grids", WHOLE)
    assert sorted(f.properties["code"] for f in grids) == [
        tiny_district.WEST + "00101",
        tiny_district.WEST + "00102",
        tiny_district.EAST + "00101",
        tiny_district.EAST + "00102",
    ]
    assert {f.properties["community_code"] for f in grids} == {
        tiny_district.WEST + "001",
        tiny_district.EAST + "001",
    }
    communities = features(client, headers, "communities", WHOLE)
    assert {f.properties["street_code"] for f in communities} == {tiny_district.WEST, tiny_district.EAST}


def test_tile_outside_the_district_is_empty(client: TestClient, auth_headers: Headers) -> None:
    response = client.get("/tiles/grids/13/0/0.mvt", headers=auth_headers("admin"))
    assert response.status_code == 200
    assert response.content == b""


def test_plan_id_selects_a_draft(client: TestClient, auth_headers: Headers, db_session: Session) -> None:
    draft = draft_split_east_west(db_session.connection())
    grids = features(client, auth_headers("admin"), "grids", WHOLE)
    response = client.get(url("grids", WHOLE, f"?plan_id={draft}"), headers=auth_headers("admin"))
    draft_grids = decode(response.content)["grids"].features
    assert len(grids) == len(draft_grids) == 4
    # the draft splits west/east: its west grid 01 ends at 114.304, the active one spans the street

    def east_edge(found: list) -> float:
        west_01 = next(f for f in found if f.properties["code"] == tiny_district.WEST + "00101")
        return max(lon_lat(*WHOLE, point)[0] for point in west_01.points)

    assert east_edge(draft_grids) == pytest.approx(114.304, abs=1e-4)
    assert east_edge(grids) == pytest.approx(114.31, abs=1e-4)
    assert (
        client.get(url("grids", WHOLE, "?plan_id=999999"), headers=auth_headers("admin")).status_code == 404
    )


@pytest.mark.parametrize(
    ("user", "expected"),
    [("admin", 4), ("west_op", 2), ("west_community_op", 2), ("west_worker", 1)],
)
def test_household_tiles_stay_within_scope(
    client: TestClient, auth_headers: Headers, user: str, expected: int
) -> None:
    tiles = {tile_of(lon, lat, 14) for lon in (114.305, 114.315) for lat in (30.545, 30.555)}
    found = [f for tile in tiles for f in features(client, auth_headers(user), "households", tile)]
    assert len(found) == expected
    assert sum(f.properties["households"] for f in found) == expected


def test_household_points_from_zoom_16_with_grid_codes(client: TestClient, auth_headers: Headers) -> None:
    tile = tile_of(114.305, 30.545, 16)
    found = features(client, auth_headers("admin"), "households", tile)
    assert [f.properties["grid_code"] for f in found] == [tiny_district.WEST + "00101"]
    lon, lat = lon_lat(*tile, found[0].first_point)
    assert abs(lon - 114.305) < 1e-5 and abs(lat - 30.545) < 1e-5
    assert set(found[0].properties) == {"residents", "grid_code"}
    assert found[0].id is not None and found[0].id > 0


def test_household_tiles_below_16_group_by_building(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    run = db_session.execute
    run(
        text(
            "INSERT INTO building (id, source, source_id, kind, households, geom, district_code) "
            "VALUES (77, 'test', '77', 'residential', 2, ST_GeomFromEWKT(:g), '420106')"
        ),
        {"g": tiny_district.box(114.3050, 30.5450, 114.3052, 30.5452)},
    )
    run(text("UPDATE household SET building_id = 77 WHERE ST_X(geom) < 114.31 AND ST_Y(geom) < 30.55"))
    run(
        text(
            "INSERT INTO household (id, residents, grid_id, building_id, geom, district_code) SELECT 99, 5, "
            "grid_id, 77, ST_SetSRID(ST_MakePoint(114.3051, 30.5451), 4326), district_code "
            "FROM household WHERE building_id = 77"
        )
    )
    tile = tile_of(114.305, 30.545, 14)
    building = [f for f in features(client, auth_headers("admin"), "households", tile) if f.id == 77]
    assert [(f.properties["households"], f.properties["residents"]) for f in building] == [(2, 8)]
    # the building point lands where PostGIS' own projection and quantisation would put it
    z, x, y = tile
    expected = run(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(geom), 3857), "
            "ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS p FROM building WHERE id = 77) AS t"
        ),
        {"z": z, "x": x, "y": y},
    ).one()
    assert building[0].first_point == (round(expected[0]), round(expected[1]))


def test_household_tiles_are_private_and_audited(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    response = client.get(url("households", tile_of(114.305, 30.545, 16)), headers=auth_headers("west_op"))
    assert response.headers["cache-control"] == "no-store"
    audit = db_session.execute(
        text("SELECT username, action, count FROM audit_log WHERE action LIKE 'households.tile%'")
    ).all()
    assert [tuple(row) for row in audit] == [("west_op", "households.tile", 1)]


def test_planner_may_not_read_household_tiles(client: TestClient, auth_headers: Headers) -> None:
    response = client.get(url("households", tile_of(114.305, 30.545, 16)), headers=auth_headers("planner"))
    assert response.status_code == 403
    assert "planner" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/tiles/rivers/13/6697/3365.mvt", 404, "unknown tile layer 'rivers'"),
        ("/tiles/households/13/6697/3365.mvt", 422, "household tiles start at zoom 14"),
        ("/tiles/grids/3/8/0.mvt", 422, "between 0 and 7 at z=3"),
        ("/tiles/grids/23/0/0.mvt", 422, "between 0 and 22"),
        ("/tiles/grids/3/x/0.mvt", 422, "path parameter x"),
        ("/tiles/households/16/53576/26922.mvt?plan_id=1", 422, "plan_id applies to communities and grids"),
        ("/tiles/streets/13/6697/3365.mvt?plan_id=1", 422, "not to streets"),
    ],
)
def test_bad_tile_requests_are_named(
    client: TestClient, auth_headers: Headers, path: str, status: int, message: str
) -> None:
    response = client.get(path, headers=auth_headers("admin"))
    assert response.status_code == status
    assert message in response.text


def test_tiles_need_a_login(client: TestClient, areas: dict[str, int]) -> None:
    assert client.get(url("streets", WHOLE)).status_code == 401


def test_etag_revalidates_with_304(client: TestClient, auth_headers: Headers) -> None:
    headers = auth_headers("admin")
    first = client.get(url("grids", WHOLE), headers=headers)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "public, no-cache"
    again = client.get(url("grids", WHOLE), headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get(url("streets", WHOLE), headers=headers).headers["etag"]
    assert other != etag


def test_activation_changes_etags_and_content(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    headers = auth_headers("admin")
    draft = draft_split_east_west(db_session.connection())
    before = client.get(url("grids", WHOLE), headers=headers)
    plans.activate_plan(db_session.connection(), draft)
    after = client.get(url("grids", WHOLE), headers={**headers, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert decode(after.content)["grids"].features != decode(before.content)["grids"].features


def test_invalidation_changes_every_etag(client: TestClient, auth_headers: Headers) -> None:
    from gis_api.tiles.cache import tile_cache

    headers = auth_headers("admin")
    before = client.get(url("streets", WHOLE), headers=headers).headers["etag"]
    cache = tile_cache(client.app)  # type: ignore[arg-type]
    assert len(cache) >= 1
    cache.invalidate()
    assert len(cache) == 0
    assert client.get(url("streets", WHOLE), headers=headers).headers["etag"] != before


def test_roads_tile_keeps_minor_roads_for_high_zooms(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    db_session.execute(
        text(
            "INSERT INTO road_node (id, geom, district_code) VALUES "
            "(1, ST_SetSRID(ST_MakePoint(114.301, 30.545), 4326), '420106'), "
            "(2, ST_SetSRID(ST_MakePoint(114.319, 30.545), 4326), '420106')"
        )
    )
    for edge, road_class in ((1, "primary"), (2, "residential")):
        db_session.execute(
            text(
                "INSERT INTO road_edge (id, source, target, name, road_class, oneway, length_m, speed_kmh, "
                "travel_time_s, cost, reverse_cost, geom, district_code) VALUES (:i, 1, 2, :n, :c, false, "
                "1700, 30, 204, 204, 204, "
                "ST_GeomFromText('LINESTRING(114.301 30.545, 114.319 30.545)', 4326), '420106')"
            ),
            {"i": edge, "n": f"{road_class}路", "c": road_class},
        )
    headers = auth_headers("west_worker")
    close = features(client, headers, "roads", WHOLE)
    assert sorted(f.properties["road_class"] for f in close) == ["primary", "residential"]
    assert {f.geometry_type for f in close} == {"LineString"}
    far = features(client, headers, "roads", tile_of(114.31, 30.55, 10))
    assert [f.properties["name"] for f in far] == ["primary路"]

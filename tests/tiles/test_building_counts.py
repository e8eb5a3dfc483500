"""Household tiles at z14-15 from the stored counts per building: the same features as counting
every household of the tile, and each scope still sees only its own households."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.households.service import scope_clause
from gis_api.tiles.layers import HOUSEHOLD_BUILDINGS_BY_ROW_SQL
from gis_api.tiles.service import TileAddress, TileRequest, render_tile
from tests import tiny_district
from tests.tiles.mvt import decode, tile_of

Headers = Callable[[str], dict[str, str]]
WEST_SOUTH, WEST_NORTH = tiny_district.WEST + "00101", tiny_district.WEST + "00102"
ADMIN = Principal(user_id=0, username="admin", role=Role.ADMIN, scope_code=tiny_district.DISTRICT)


def add_households(session: Session, first_id: int, lon: float, lat: float, grid: str, n: int) -> None:
    """`n` households at one point of building 502 (residents 1, 2, 3, 1, ...) in `grid`."""
    session.execute(
        text(
            "INSERT INTO household (id, residents, grid_id, building_id, geom, district_code) "
            "SELECT :first + i, 1 + i % 3, (SELECT id FROM grid WHERE code = :grid), 502, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :district FROM generate_series(0, :n - 1) AS i"
        ),
        {"first": first_id, "grid": grid, "lon": lon, "lat": lat, "n": n, "district": tiny_district.DISTRICT},
    )


@pytest.fixture
def buildings(areas: dict[str, int], db_session: Session) -> None:
    """Building 501 holds the west-south household; tower 502 straddles the west grids' border
    (30.55) with 7 households in the south grid and 5 in the north one; the rest have none."""
    for building_id, outline in (
        (501, tiny_district.box(114.3045, 30.5445, 114.3055, 30.5455)),
        (502, tiny_district.box(114.3070, 30.5495, 114.3076, 30.5505)),
    ):
        db_session.execute(
            text(
                "INSERT INTO building (id, source, source_id, kind, households, geom, district_code) "
                "VALUES (:id, 'test', :id, 'residential', 0, ST_GeomFromEWKT(:g), :d)"
            ),
            {"id": building_id, "g": outline, "d": tiny_district.DISTRICT},
        )
    db_session.execute(
        text(
            "UPDATE household SET building_id = 501 "
            "WHERE ST_Intersects(geom, (SELECT geom FROM building WHERE id = 501))"
        )
    )
    add_households(db_session, 9000, 114.3072, 30.5497, WEST_SOUTH, 7)
    add_households(db_session, 9100, 114.3074, 30.5503, WEST_NORTH, 5)


def decoded(body: bytes) -> set[tuple]:
    """(id, properties, point) of every household feature."""
    layer = decode(body).get("households")
    features = layer.features if layer else []
    return {(f.id, tuple(sorted(f.properties.items())), f.first_point) for f in features}


@pytest.mark.parametrize("zoom", [14, 15])
def test_stored_counts_draw_the_same_features_as_counting_rows(
    buildings: None, db_session: Session, zoom: int
) -> None:
    address = TileAddress(*tile_of(114.3072, 30.5497, zoom))
    stored = render_tile(db_session, TileRequest("households", address, ADMIN), [])
    scope_sql, params = scope_clause(ADMIN)
    values = {"z": address.z, "x": address.x, "y": address.y, **address.bounds(), **params}
    body, _ = db_session.execute(text(HOUSEHOLD_BUILDINGS_BY_ROW_SQL.format(scope=scope_sql)), values).one()
    by_row = decoded(bytes(body or b""))
    assert decoded(stored.body) == by_row
    towers = {f[0]: dict(f[1]) for f in by_row if f[0] in (501, 502)}
    assert towers == {501: {"households": 1, "residents": 3}, 502: {"households": 12, "residents": 22}}


@pytest.mark.parametrize(
    ("user", "expected"),
    [("admin", {501: 1, 502: 12}), ("west_op", {501: 1, 502: 12}), ("west_worker", {501: 1, 502: 7})],
)
def test_each_scope_counts_only_its_households(
    buildings: None, client: TestClient, auth_headers: Headers, user: str, expected: dict[int, int]
) -> None:
    z, x, y = tile_of(114.3072, 30.5497, 15)
    response = client.get(f"/tiles/households/{z}/{x}/{y}.mvt", headers=auth_headers(user))
    assert response.status_code == 200, response.text
    features = decode(response.content)["households"].features
    assert {f.id: f.properties["households"] for f in features if f.id is not None and f.id > 0} == expected


def test_another_district_operator_sees_no_building(buildings: None, db_session: Session) -> None:
    other = Principal(0, "other", Role.DISTRICT_OPERATOR, tiny_district.OTHER)
    address = TileAddress(*tile_of(114.3072, 30.5497, 14))
    assert render_tile(db_session, TileRequest("households", address, other), []).features == 0

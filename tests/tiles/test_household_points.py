"""Household tiles at z16 (one point per household): the route's query draws exactly the features
the earlier query drew (kept below as the reference), for a district, a street and a grid scope."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.households.service import scope_clause
from gis_api.tiles.service import TileAddress, TileRequest, render_tile
from tests import tiny_district
from tests.tiles.mvt import tile_of
from tests.tiles.test_building_counts import WEST_NORTH, WEST_SOUTH, buildings, decoded

__all__ = ["buildings"]

BEFORE_SQL = """
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_MakeEnvelope(:west, :south, :east, :north, 4326) AS env4326)
SELECT ST_AsMVT(t, 'households', 4096, 'geom', 'id'), count(*) FROM (
    SELECT h.id, h.residents, g.code AS grid_code,
           ST_MakePoint(
               round(((ST_X(h.geom) * 20037508.342789244 / 180) - :x0) / :size * 4096),
               round((:y1 - (ln(tan((90 + ST_Y(h.geom)) * pi() / 360)) * 6378137)) / :size * 4096)
           ) AS geom
    FROM household h LEFT JOIN grid g ON g.id = h.grid_id
    WHERE h.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326) AND {scope}) AS t
WHERE t.geom IS NOT NULL
"""
"""The z16 query as it was before the city tiles work (cb6b6ee's arithmetic projection)."""

PRINCIPALS = {
    "admin": Principal(0, "admin", Role.ADMIN, tiny_district.DISTRICT),
    "street": Principal(0, "west_op", Role.STREET_OPERATOR, tiny_district.WEST),
    "grid worker": Principal(0, "west_worker", Role.GRID_WORKER, WEST_SOUTH),
    "other district": Principal(0, "other", Role.DISTRICT_OPERATOR, tiny_district.OTHER),
}
EXPECTED = {"admin": 10, "street": 10, "grid worker": 7, "other district": 0}
"""Households in the tile: tower 502's 7 of the west-south grid and 3 without a building in the
west-north grid (the tile straddles the grids' border at 30.55)."""


@pytest.fixture
def households(buildings: None, db_session: Session) -> None:
    db_session.execute(
        text(
            "INSERT INTO household (id, residents, grid_id, geom, district_code) "
            "SELECT 9200 + i, 2, (SELECT id FROM grid WHERE code = :grid), "
            "ST_SetSRID(ST_MakePoint(114.3060, 30.5502), 4326), :district FROM generate_series(0, 2) AS i"
        ),
        {"grid": WEST_NORTH, "district": tiny_district.DISTRICT},
    )


@pytest.mark.parametrize("who", sorted(PRINCIPALS))
@pytest.mark.parametrize("zoom", [16, 17])
def test_points_are_the_features_the_earlier_query_drew(
    households: None, db_session: Session, who: str, zoom: int
) -> None:
    principal = PRINCIPALS[who]
    address = TileAddress(*tile_of(114.3072, 30.5497, zoom))
    tile = render_tile(db_session, TileRequest("households", address, principal), [])
    scope_sql, params = scope_clause(principal)
    values = {"z": address.z, "x": address.x, "y": address.y, **address.bounds(), **params}
    body, count = db_session.execute(text(BEFORE_SQL.format(scope=scope_sql)), values).one()
    assert decoded(tile.body) == decoded(bytes(body or b""))
    assert tile.features == count == EXPECTED[who]
    grid_codes = {dict(feature[1]).get("grid_code") for feature in decoded(tile.body)}
    seen = {WEST_SOUTH} if who == "grid worker" else {WEST_SOUTH, WEST_NORTH}
    assert grid_codes == (seen if count else set())

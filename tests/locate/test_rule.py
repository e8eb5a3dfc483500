"""Point → grid has one rule: on a shared edge or vertex the smallest grid code wins, whatever the
row ids, in the memory index, both SQL lookups, case intake and plan activation alike."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.cases.service import Position, locate_grid
from gis_api.locate.index import LocateIndexCache
from gis_api.locate.rule import first_by_code
from gis_api.locate.sql_lookup import locate_batch_sql, locate_point_sql
from gis_api.plans.service import reassign_households
from tests.api.app_fixtures import WEST_NORTH_GRID, WEST_SOUTH_GRID

SHARED_EDGE = (114.305, 30.55)  # between the west street's south and north grids
SHARED_VERTEX = (114.31, 30.55)  # corner of all four grids of both streets


@pytest.fixture
def swapped(connection: Connection, areas: dict[str, int]) -> dict[str, int]:
    """Give the south grid (the lower row id) the larger code, so id order and code order differ."""
    swap = "UPDATE grid SET code = :new WHERE code = :old"
    for old, new in (
        (WEST_SOUTH_GRID, "42010600100199"),
        (WEST_NORTH_GRID, WEST_SOUTH_GRID),
        ("42010600100199", WEST_NORTH_GRID),
    ):
        connection.execute(text(swap), {"old": old, "new": new})
    assert areas[WEST_SOUTH_GRID] < areas[WEST_NORTH_GRID]
    return areas


def memory_code(session: Session, lon: float, lat: float) -> str:
    index = LocateIndexCache().current(session)
    assert index is not None
    return index.areas[int(index.lookup(np.array([lon]), np.array([lat]))[0])].grid_code


@pytest.mark.parametrize("point", [SHARED_EDGE, SHARED_VERTEX], ids=["edge", "vertex"])
def test_every_path_picks_the_smallest_code(
    db_session: Session, swapped: dict[str, int], point: tuple
) -> None:
    lon, lat = point
    point_sql = locate_point_sql(db_session, lon, lat)
    batch_sql = locate_batch_sql(db_session, [lon], [lat])[0]
    case_grid = locate_grid(db_session, Position(lon, lat))
    found = {memory_code(db_session, lon, lat), point_sql.grid_code, batch_sql.grid_code, case_grid.grid_code}
    assert found == {WEST_SOUTH_GRID}  # the smallest code; its row is the north grid now
    assert case_grid.grid_id == swapped[WEST_NORTH_GRID]


def test_activation_places_an_edge_household_by_the_same_rule(
    connection: Connection, swapped: dict[str, int]
) -> None:
    connection.execute(
        text(
            "UPDATE household SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326), grid_id = NULL WHERE id = 2"
        ),
        {"x": SHARED_EDGE[0], "y": SHARED_EDGE[1]},
    )
    reassign_households(connection, swapped["plan"])
    grid = connection.execute(
        text("SELECT g.code FROM household h JOIN grid g ON g.id = h.grid_id WHERE h.id = 2")
    )
    assert grid.scalar_one() == WEST_SOUTH_GRID


def test_first_by_code_without_hits_is_no_grid() -> None:
    codes = np.array(["b", "a"], dtype=object)
    none = np.array([], dtype=np.intp)
    assert first_by_code(none, none, codes, 2).tolist() == [-1, -1]
    hits = first_by_code(np.array([1, 1, 0]), np.array([0, 1, 0]), codes, 3)
    assert hits.tolist() == [0, 1, -1]

"""Busy grids re-cut with a neighbour of their community after both levels: the busier half gets
lighter, every grid stays connected and inside its band, and grids of another community are left."""

from __future__ import annotations

import numpy as np

from boundaries.band import HouseholdBand
from boundaries.constraints import is_contiguous
from boundaries.graph import lattice_graph
from boundaries.pair_cut import AreaPieces, lighten_busy_grids

# A row of 6 blocks of 10 households in two grids: the left one carries 9 work, the right one 3.
ROW = lattice_graph(1, 6)
ROW_PIECES = AreaPieces(
    ROW.neighbour_lists(), np.full(6, 10.0), np.array([3, 3, 3, 1, 1, 1], dtype=np.float64)
)


def row_grids() -> np.ndarray:
    return np.array([0, 0, 0, 1, 1, 1], dtype=np.int64)


def test_busy_grid_gives_its_border_block_to_the_quiet_neighbour() -> None:
    grid_of = row_grids()
    made = lighten_busy_grids(
        ROW_PIECES, grid_of, np.array([0, 0]), [HouseholdBand(20, 40)], 5.0, np.random.default_rng(1)
    )
    # 2 blocks (6) | 4 blocks (3 + 3): the only cut whose busier half carries less than 9 that
    # keeps both grids within 20-40 households.
    assert made == 1
    assert grid_of.tolist() == [0, 0, 1, 1, 1, 1]


def test_band_that_allows_no_other_cut_leaves_the_plan() -> None:
    grid_of = row_grids()
    made = lighten_busy_grids(
        ROW_PIECES, grid_of, np.array([0, 0]), [HouseholdBand(30, 30)], 5.0, np.random.default_rng(1)
    )
    assert made == 0
    assert grid_of.tolist() == row_grids().tolist()


def test_grid_of_another_community_is_not_a_partner() -> None:
    grid_of = row_grids()
    bands = [HouseholdBand(20, 40), HouseholdBand(20, 40)]
    made = lighten_busy_grids(ROW_PIECES, grid_of, np.array([0, 1]), bands, 5.0, np.random.default_rng(1))
    assert made == 0
    assert grid_of.tolist() == row_grids().tolist()


def lattice_case() -> tuple[AreaPieces, np.ndarray]:
    """A 6 × 6 lattice of 10-household blocks in four 3 × 3 grids, the top-left one a hot spot."""
    graph = lattice_graph(6, 6)
    rows, cols = np.divmod(np.arange(36), 6)
    grid_of = ((rows >= 3) * 2 + (cols >= 3)).astype(np.int64)
    work = np.where(grid_of == 0, 3.0, 1.0) + np.random.default_rng(5).random(36)
    return AreaPieces(graph.neighbour_lists(), np.full(36, 10.0), work), grid_of


def test_lattice_hot_spot_is_shared_and_every_grid_keeps_band_and_shape() -> None:
    pieces, grid_of = lattice_case()
    before = np.bincount(grid_of, pieces.work, minlength=4)
    band = HouseholdBand(70, 110)
    made = lighten_busy_grids(
        pieces, grid_of, np.zeros(4, dtype=np.int64), [band], before.mean(), np.random.default_rng(3)
    )
    after = np.bincount(grid_of, pieces.work, minlength=4)
    households = np.bincount(grid_of, pieces.households, minlength=4)
    assert made >= 1
    assert after.max() < before.max() - 1.0
    assert ((households >= 70) & (households <= 110)).all()
    graph = lattice_graph(6, 6)
    assert is_contiguous(graph, grid_of)


def test_same_generator_same_plan() -> None:
    plans = []
    for _ in range(2):
        pieces, grid_of = lattice_case()
        line = float(np.bincount(grid_of, pieces.work).mean())
        lighten_busy_grids(
            pieces,
            grid_of,
            np.zeros(4, dtype=np.int64),
            [HouseholdBand(70, 110)],
            line,
            np.random.default_rng(9),
        )
        plans.append(grid_of.tolist())
    assert plans[0] == plans[1]

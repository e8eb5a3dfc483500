"""Blocks without households leave busy grids, across community borders, keeping grids and
communities connected and never into another street."""

from __future__ import annotations

import numpy as np

from boundaries.shed import shed_empty_blocks

PATH = [[1], [0, 2], [1]]  # u0 - u1 - u2, one piece per unit


def shed(nbrs: list[list[int]], households: list[float], work: list[float], grids: list[int],
         grid_community: list[int], streets: list[str]) -> tuple[list[int], list[int], int]:  # fmt: skip
    grid_of = np.array(grids, dtype=np.int64)
    community_of = np.array(grid_community, dtype=np.int64)[grid_of]
    moves = shed_empty_blocks(
        nbrs, nbrs, np.array(households), np.array(work), np.arange(len(nbrs)), grid_of, community_of,
        np.array(grid_community, dtype=np.int64), streets,
    )  # fmt: skip
    return grid_of.tolist(), community_of.tolist(), moves


def test_a_market_square_goes_to_the_quiet_community_next_door() -> None:
    # grid 0 (community 0) = homes (10 h) + a square without homes (40 h); grid 1 (community 1) 5 h
    grids, communities, moves = shed(PATH, [100, 0, 100], [10, 40, 5], [0, 0, 1], [0, 1], ["s", "s"])
    assert (grids, communities, moves) == ([0, 1, 1], [0, 1, 1], 1)  # the peak falls from 50 to 45


def test_no_move_that_does_not_lower_the_peak() -> None:
    grids, _, moves = shed(PATH, [100, 0, 100], [10, 40, 10], [0, 0, 1], [0, 1], ["s", "s"])
    assert (grids, moves) == ([0, 0, 1], 0)  # 10 + 40 would make the other grid as busy (50)


def test_no_move_that_cuts_a_grid_or_crosses_a_street() -> None:
    star = [[1], [0, 2, 3], [1], [1]]  # the square u1 joins u0 and u2 of its grid
    grids, _, moves = shed(star, [100, 0, 100, 100], [10, 40, 10, 5], [0, 0, 0, 1], [0, 1], ["s", "s"])
    assert (grids, moves) == ([0, 0, 0, 1], 0)
    grids, _, moves = shed(PATH, [100, 0, 100], [10, 40, 5], [0, 0, 1], [0, 1], ["s", "t"])
    assert (grids, moves) == ([0, 0, 1], 0)

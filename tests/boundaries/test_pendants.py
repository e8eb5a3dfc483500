"""Districts whose grids cannot all keep the band because a unit alone joins pendant parts too
small for a grid of their own (boundaries.pendants), found on the child level's units."""

from __future__ import annotations

import numpy as np

from boundaries.band import HouseholdBand
from boundaries.graph import from_edges
from boundaries.pendants import ChildUnits, stranded

GRIDS = HouseholdBand(255.0, 345.0)


def hub_world(tower: float) -> tuple[list[list[int]], np.ndarray]:
    """Unit 0 (22 households) is the only way from two towers (units 1-3 and 4-6, each a chain of
    three pieces of `tower` / 3) to a row of 10 units of 60 (units 7-16)."""
    edges = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7)] + [(i, i + 1) for i in range(7, 16)]
    nbrs: list[list[int]] = [[] for _ in range(17)]
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    households = np.array([22.0] + [tower / 3] * 6 + [60.0] * 10)
    return nbrs, households


def test_a_hub_whose_towers_must_join_its_grid_strands_its_district() -> None:
    nbrs, households = hub_world(174.0)
    labels = np.zeros(17, dtype=np.int64)
    # any grid holding tower pieces without unit 0 stays below 255, so both towers join it: 370
    assert stranded(nbrs, households, labels, 1, GRIDS) == [0]


def test_towers_big_enough_for_a_grid_of_their_own_strand_nothing() -> None:
    nbrs, households = hub_world(270.0)
    assert stranded(nbrs, households, np.zeros(17, dtype=np.int64), 1, GRIDS) == []


def test_only_the_district_holding_the_hub_and_its_towers_is_stranded() -> None:
    nbrs, households = hub_world(174.0)
    labels = np.array([1] * 7 + [0] * 10, dtype=np.int64)  # the hub with its towers, then the row
    assert stranded(nbrs, households, labels, 2, GRIDS) == [1]
    apart = np.array([0] + [1] * 3 + [0] * 13, dtype=np.int64)  # one tower in a district of its own
    assert stranded(nbrs, households, apart, 2, GRIDS) == []  # 22 + 174 + the row's 600 is fine


def test_child_units_map_pieces_to_their_parent_units() -> None:
    """Three parent units in a row; the middle one is cut into two pieces. The child units of
    parent units 1 and 2 are the pieces 1, 2 and 3, with parents 0, 0, 1 among those units."""
    graph = from_edges(
        4, [0, 1, 2], [1, 2, 3], [1.0, 1.0, 1.0], [False] * 3,
        x=[0.0, 1.0, 2.0, 3.0], y=[0.0] * 4, area=[1.0] * 4, exterior_length=[1.0] * 4,
    )  # fmt: skip
    pieces = ChildUnits.of(graph, np.array([10.0, 5.0, 5.0, 10.0]), np.array([0, 1, 1, 2]), np.array([1, 2]))
    assert pieces.parent.tolist() == [0, 0, 1]
    assert pieces.households.tolist() == [5.0, 5.0, 10.0]
    assert pieces.graph.neighbour_lists() == [[1], [0, 2], [1]]
    band = HouseholdBand(8.0, 12.0)
    # the pieces of unit 1 (5 + 5) make a child; unit 2 (10) another: nothing stranded
    assert pieces.stranded(np.array([0, 1]), 2, band) == []

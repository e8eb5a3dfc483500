"""The exact band re-split: every grid inside the household band wherever the units allow it, and
a one-line reason where they do not. Hand-made cases whose answers can be checked by hand."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from boundaries.band import HouseholdBand
from boundaries.band_split import band_split, random_depth_first_tree, split_tree
from boundaries.constraints import is_contiguous
from boundaries.graph import UnitGraph, from_edges, lattice_graph
from boundaries.partition import Subproblem, solve_subproblem
from boundaries.recom import random_spanning_tree
from boundaries.score import ScoreModel, Weights
from boundaries.solve import partition, repair_band
from boundaries.state import PartitionState

# 5 rows × 3 columns, multiples of 10 households: 480 in all, 4 districts of 112-128 households
# can only be 4 × 120 (the one multiple of 10 in the band).
STUCK_HOUSEHOLDS = np.array([50, 40, 30, 20, 60, 30, 40, 30, 20, 40, 10, 50, 10, 20, 30], dtype=float)
STUCK_START = np.array([0, 0, 1, 0, 1, 1, 2, 3, 3, 2, 2, 3, 2, 2, 3])  # 110, 120, 120, 130
STUCK_BAND = HouseholdBand(112.0, 128.0)


def simple_graph(n: int, u: np.ndarray, v: np.ndarray) -> UnitGraph:
    """Units 100 m apart on a line, edges of 100 m; only the adjacency matters here."""
    ones = np.ones(len(u))
    return from_edges(n, u, v, ones * 100.0, ones * 0.0, x=np.arange(n) * 100.0, y=np.zeros(n),
                      area=np.ones(n), exterior_length=np.zeros(n))  # fmt: skip


def path_graph(n: int) -> UnitGraph:
    return simple_graph(n, np.arange(n - 1), np.arange(1, n))


def star_graph(leaves: int) -> UnitGraph:
    return simple_graph(leaves + 1, np.zeros(leaves, dtype=np.int64), np.arange(1, leaves + 1))


def totals(labels: np.ndarray, households: np.ndarray, k: int) -> list[float]:
    return np.bincount(labels, households, minlength=k).tolist()


def test_a_path_splits_where_the_band_says() -> None:
    # 100 | 100 100 | 100 ... : 6 × 100 into 2 of 255-345 can only be 3 + 3
    graph = path_graph(6)
    split = band_split(
        graph.neighbour_lists(), [100.0] * 6, 2, HouseholdBand(255, 345), np.random.default_rng(0)
    )
    assert split.labels is not None and split.exhaustive and split.trees == 1
    assert split.labels.tolist() in ([0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0])


def test_a_star_cannot_split_and_says_it_checked_every_split() -> None:
    # centre 10, five leaves of 100: a district without the centre is one leaf (100 < 200)
    graph, households, band = star_graph(5), [10.0] + [100.0] * 5, HouseholdBand(200, 320)
    split = band_split(graph.neighbour_lists(), households, 2, band, np.random.default_rng(0))
    assert split.labels is None and split.exhaustive
    assert split.why_not(2, band, 6) == (
        "no split of its 6 units into 2 districts of 200-320 households exists "
        "(a tree of units: every split checked)"
    )
    result = partition(graph, households, 2, None, 0.2, np.random.default_rng(0), band=band)
    assert result.out_of_band and result.band_note is not None and "every split checked" in result.band_note


def test_arithmetic_reasons_come_first() -> None:
    graph = path_graph(4)
    too_few = partition(
        graph, [50.0] * 4, 1, None, 0.2, np.random.default_rng(0), band=HouseholdBand(255, 345)
    )
    assert too_few.band_note == "200 households cannot make 1 district of 255-345 households (no count would)"
    heavy = partition(
        graph, [400.0, 100, 50, 50], 2, None, 0.2, np.random.default_rng(0), band=HouseholdBand(255, 345)
    )
    assert heavy.band_note == "unit 0 alone holds 400 households, above 255-345 households"
    # 19 buildings of 30: 570 households fit 2 × 272-288 by count, but any set makes 270 or 300
    thirties = partition(
        path_graph(19), [30.0] * 19, 2, None, 0.2, np.random.default_rng(0), band=HouseholdBand(272, 288)
    )
    assert (
        thirties.band_note
        == "no set of its units adds up to 272-288 households (their sums jump from 270 to 300)"
    )


def test_the_flip_repair_stalls_where_the_exact_resplit_does_not() -> None:
    graph, households = lattice_graph(5, 3), STUCK_HOUSEHOLDS
    nbrs, movable = graph.neighbour_lists(), np.ones(15, dtype=bool)
    for seed in range(5):  # the repair of round 2 (flips, then re-splits of 2-3 neighbours) stays at 110
        model = ScoreModel.build(graph, households, 4, 0.07, Weights())
        state = PartitionState.build(
            STUCK_START, households, 4, graph.area, model.district_perimeter(STUCK_START, 4)
        )
        repair_band(model, state, movable, nbrs, np.random.default_rng(seed), STUCK_BAND)
        assert STUCK_BAND.outside(state.district_households).size > 0
    for seed in range(5):
        result = partition(
            graph, households, 4, None, 0.07, np.random.default_rng(seed),
            current=STUCK_START, minimal_disruption=True, band=STUCK_BAND,
        )  # fmt: skip
        assert result.out_of_band == () and result.band_note is None
        assert totals(result.assignment, households, 4) == [120.0] * 4
        assert is_contiguous(graph, result.assignment)


def test_the_same_seed_gives_the_same_split() -> None:
    graph = lattice_graph(6, 6)
    households = np.random.default_rng(3).integers(5, 40, 36).astype(float)
    band = HouseholdBand.around(float(households.sum()) / 4, 0.05)
    first = band_split(graph.neighbour_lists(), households, 4, band, np.random.default_rng(9))
    again = band_split(graph.neighbour_lists(), households, 4, band, np.random.default_rng(9))
    assert first.labels is not None and again.labels is not None
    assert first.labels.tolist() == again.labels.tolist() and first.trees == again.trees
    assert band.outside(np.bincount(first.labels, households, minlength=4).astype(float)).size == 0
    assert is_contiguous(graph, first.labels)


@pytest.mark.parametrize("make_tree", [random_spanning_tree, random_depth_first_tree])
def test_each_tree_is_decided_exactly(make_tree) -> None:  # type: ignore[no-untyped-def]
    """Against every cut of k - 1 tree edges, on 120 small random cases."""
    rng = np.random.default_rng(4)
    adjacency = lattice_graph(3, 4).neighbour_lists()
    agree = feasible = 0
    for _ in range(120):
        tree = make_tree(adjacency, rng)
        households = rng.integers(1, 40, 12)
        k = int(rng.integers(2, 5))
        mean, width = households.sum() / k, int(rng.integers(0, 25))
        low, high = int(mean - width), int(mean + width)
        found = split_tree(tree, households.astype(np.int64), k, low, high)
        exists = any(_cut_fits(tree, households, cut, low, high) for cut in _cuts(tree, k))
        feasible += exists
        agree += (found is not None) == exists
        if found is not None:
            assert all(low <= t <= high for t in totals(found, households.astype(float), k))
    assert agree == 120 and feasible > 20


def _cuts(tree: list[list[int]], k: int) -> itertools.combinations[tuple[tuple[int, int], ...]]:
    edges = [(a, b) for a, around in enumerate(tree) for b in around if a < b]
    return itertools.combinations(edges, k - 1)


def _cut_fits(
    tree: list[list[int]], households: np.ndarray, cut: tuple[tuple[int, int], ...], low: int, high: int
) -> bool:
    kept = np.array([(a, b) for a, around in enumerate(tree) for b in around if a < b and (a, b) not in cut])
    _, labels = simple_graph(len(tree), kept[:, 0], kept[:, 1]).components()
    return all(low <= t <= high for t in np.bincount(labels, households))


def test_a_count_the_band_cannot_hold_steps_towards_the_nominal_count() -> None:
    # 10 units of 60 on a path: 3 grids would hold 200 each (below 255); the nominal count is 2
    task = Subproblem(
        key="community/0", graph=path_graph(10), households=np.full(10, 60.0), k=3, target=300.0,
        tolerance=0.15, seed=1, band=HouseholdBand(255, 345),
    )  # fmt: skip
    result = solve_subproblem(task)
    assert result.k == 2 and result.out_of_band == ()
    assert totals(result.assignment, task.households, 2) == [300.0, 300.0]
    kept = solve_subproblem(replace(task, band=None))  # without a band the count given stands
    assert kept.k == 3

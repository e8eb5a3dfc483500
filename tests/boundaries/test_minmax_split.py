"""The min–max re-cut along spanning trees: exact for a given tree (checked against every cut of
small trees), never makes the busiest district busier, keeps the band and connected districts."""

from __future__ import annotations

import itertools

import numpy as np

from boundaries.band import HouseholdBand
from boundaries.constraints import is_contiguous
from boundaries.graph import lattice_graph
from boundaries.minmax_split import minmax_resplit, tree_cut


def random_tree(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random tree as (breadth-first order from unit 0, parent per unit): each unit hangs from an
    earlier one, so the order 0..n-1 is breadth-first enough for the tables (parents first)."""
    parent = np.array([-1, *[int(rng.integers(0, unit)) for unit in range(1, n)]], dtype=np.int64)
    return np.arange(n, dtype=np.int64), parent


def every_cut(parent: np.ndarray, k: int) -> list[np.ndarray]:
    """Labels of every cut of the tree into k pieces (k - 1 edges, an edge = a non-root unit)."""
    n, cuts = len(parent), []
    for chosen in itertools.combinations(range(1, n), k - 1):
        labels = np.zeros(n, dtype=np.int64)
        for unit in range(1, n):
            labels[unit] = chosen.index(unit) + 1 if unit in chosen else labels[parent[unit]]
        cuts.append(labels)
    return cuts


def brute_force_best(
    parent: np.ndarray, households: np.ndarray, work: np.ndarray, k: int, band: tuple[int, int]
) -> float:
    best = np.inf
    for labels in every_cut(parent, k):
        totals = np.bincount(labels, households, minlength=k)
        if totals.min() >= band[0] and totals.max() <= band[1]:
            best = min(best, float(np.bincount(labels, work, minlength=k).max()))
    return best


def test_the_tree_cut_is_exact_against_every_cut_of_small_trees() -> None:
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(80):
        n, k = int(rng.integers(5, 10)), int(rng.integers(2, 4))
        order, parent = random_tree(n, rng)
        households = rng.integers(1, 6, n).astype(np.int64) * 10
        work = rng.random(n).round(3)
        mean = households.sum() / k
        band = (int(mean * 0.7), int(mean * 1.3))
        best = brute_force_best(parent, households, work, k, band)
        if not np.isfinite(best):
            assert tree_cut(order, parent, households, work, k, band, 1e9) is None
            continue
        found = tree_cut(order, parent, households, work, k, band, best + 1e-9)  # sums differ in order
        assert found is not None
        totals = np.bincount(found, households, minlength=k)
        assert band[0] <= totals.min() and totals.max() <= band[1]
        assert np.bincount(found, work, minlength=k).max() <= best + 1e-9
        assert tree_cut(order, parent, households, work, k, band, best - 1e-6) is None
        checked += 1
    assert checked >= 40  # most random cases have a cut inside the band


# 2 × 4 lattice (units 0-3 the top row, 4-7 the bottom row), 50 households each: two districts of
# 3 to 5 units (150-250). The current plan splits left from right, so its left half holds 16 of the
# 20 units of work.
LATTICE_WORK = np.array([4.0, 4.0, 1.0, 1.0, 4.0, 4.0, 1.0, 1.0])
LEFT_RIGHT = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)


def lattice_case(seed: int) -> np.ndarray:
    graph = lattice_graph(2, 4)
    band = HouseholdBand(150.0, 250.0)
    return minmax_resplit(graph.neighbour_lists(), np.full(8, 50.0), LATTICE_WORK, LEFT_RIGHT.copy(), 2, band,
                          np.random.default_rng(seed))  # fmt: skip


def test_a_lattice_split_left_from_right_shares_its_busy_half() -> None:
    graph = lattice_graph(2, 4)
    for seed in range(5):
        labels = lattice_case(seed)
        work = np.bincount(labels, LATTICE_WORK, minlength=2)
        assert work.max() < 16.0  # the left half alone carried 16 of 20
        assert all(150 <= total <= 250 for total in np.bincount(labels, np.full(8, 50.0), minlength=2))
        assert all(is_contiguous(graph, labels == d) for d in range(2))
        assert labels[0] == 0  # the district holding the old left half's corner keeps its label


def test_the_same_seed_gives_the_same_cut_and_nothing_busier() -> None:
    assert lattice_case(3).tolist() == lattice_case(3).tolist()
    graph = lattice_graph(3, 3)
    households, work = np.full(9, 100.0), np.arange(9, dtype=float)
    start = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int64)  # rows: work 3, 12, 21
    band = HouseholdBand(300.0, 300.0)
    rng = np.random.default_rng(0)
    labels = minmax_resplit(graph.neighbour_lists(), households, work, start, 3, band, rng)
    assert np.bincount(labels, work, minlength=3).max() <= 21.0
    assert np.bincount(labels, households, minlength=3).tolist() == [300.0] * 3


def test_households_that_are_not_whole_numbers_leave_the_plan_as_it_is() -> None:
    graph = lattice_graph(2, 4)
    labels = minmax_resplit(graph.neighbour_lists(), np.full(8, 50.5), LATTICE_WORK, LEFT_RIGHT.copy(), 2,
                            HouseholdBand(190.0, 215.0), np.random.default_rng(0))  # fmt: skip
    assert labels.tolist() == LEFT_RIGHT.tolist()

"""Single-level partition: known answers, determinism, locks, minimal disruption, infeasible input."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.constraints import is_contiguous
from boundaries.errors import InfeasibleError, InputError
from boundaries.graph import UnitGraph, lattice_graph
from boundaries.partition import partition

Lattice = tuple[UnitGraph, np.ndarray]


def test_uniform_lattice_splits_exactly(lattice_4x4: Lattice, rng: np.random.Generator) -> None:
    graph, households = lattice_4x4
    result = partition(graph, households, 4, None, 0.05, rng)
    assert result.k == 4
    assert result.district_households.tolist() == [40.0] * 4
    assert result.metrics.dev_max == 0.0
    assert is_contiguous(graph, result.assignment)


def test_count_comes_from_target_when_not_given(lattice_4x4: Lattice, rng: np.random.Generator) -> None:
    graph, households = lattice_4x4
    result = partition(graph, households, None, 80.0, 0.05, rng)
    assert result.k == 2
    assert sorted(result.district_households.tolist()) == [80.0, 80.0]


def test_two_heavy_corners_go_to_different_districts(rng: np.random.Generator) -> None:
    graph = lattice_graph(1, 6)
    households = np.array([50.0, 1, 1, 1, 1, 50])
    result = partition(graph, households, 2, None, 0.05, rng)
    assert result.assignment[0] != result.assignment[5]
    assert result.district_households.tolist() == [52.0, 52.0]


def test_barrier_becomes_the_boundary_when_balance_allows(rng: np.random.Generator) -> None:
    import shapely

    wall = shapely.LineString([(200, -1), (200, 500)])  # splits a 4x4 lattice into two halves
    graph = lattice_graph(4, 4, barriers=wall)
    result = partition(graph, np.full(16, 10.0), 2, None, 0.05, rng)
    assert result.metrics.barrier_crossings == 0
    left = result.assignment.reshape(4, 4)[:, :2]
    assert np.unique(left).size == 1


def test_same_seed_same_plan() -> None:
    graph, households = lattice_graph(8, 8), np.arange(64, dtype=float) % 7 + 1
    first = partition(graph, households, 4, None, 0.1, np.random.default_rng(3))
    second = partition(graph, households, 4, None, 0.1, np.random.default_rng(3))
    assert np.array_equal(first.assignment, second.assignment)


def test_locked_units_stay_in_their_district(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(4, 4), np.full(16, 10.0)
    result = partition(graph, households, 2, None, 0.1, rng, locked={0: 1, 15: 0})
    assert result.assignment[0] == 1
    assert result.assignment[15] == 0
    assert is_contiguous(graph, result.assignment)


def test_minimal_disruption_moves_nothing_when_feasible(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(4, 4), np.full(16, 10.0)
    current = np.repeat([0, 1], 8)  # top half / bottom half: already balanced
    result = partition(graph, households, 2, None, 0.05, rng, current=current, minimal_disruption=True)
    assert np.array_equal(result.assignment, current)
    assert result.metrics.households_moved == 0
    assert result.metrics.share_unchanged == 1.0


def test_minimal_disruption_moves_only_what_balance_needs(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(1, 10), np.full(10, 10.0)
    current = np.array([0] * 7 + [1] * 3)  # 70 vs 30 households; 2 units must move
    result = partition(graph, households, 2, None, 0.05, rng, current=current, minimal_disruption=True)
    assert result.district_households.tolist() == [50.0, 50.0]
    assert result.metrics.households_moved == 20


def test_minimal_disruption_needs_current(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(2, 2), np.ones(4)
    with pytest.raises(InputError, match="minimal_disruption needs the current plan"):
        partition(graph, households, 2, None, 0.05, rng, minimal_disruption=True)


def test_fixed_boundary_keeps_both_sides(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(2, 6), np.full(12, 10.0)
    current = np.array([0, 0, 1, 1, 2, 2] * 2)
    result = partition(graph, households, 3, None, 0.05, rng, current=current, fixed_boundaries=[(0, 1)])
    assert result.assignment[[0, 1, 6, 7]].tolist() == [0, 0, 0, 0]
    assert result.assignment[[2, 8]].tolist() == [1, 1]


def test_parent_smaller_than_the_target_is_one_district(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(2, 2), np.array([749.0, 749, 749, 749])  # 2,996 households
    result = partition(graph, households, None, 3000.0, 0.05, rng)
    assert result.k == 1
    assert result.assignment.tolist() == [0, 0, 0, 0]
    assert result.out_of_tolerance == ()


def test_more_districts_than_units_is_infeasible(rng: np.random.Generator) -> None:
    graph, households = lattice_graph(2, 2), np.full(4, 10.0)
    with pytest.raises(InfeasibleError, match="district count 5 exceeds the 4 units"):
        partition(graph, households, 5, None, 0.05, rng)


def test_disconnected_units_are_infeasible(rng: np.random.Generator) -> None:
    graph = lattice_graph(1, 5).subgraph([0, 1, 3, 4])
    with pytest.raises(InfeasibleError, match=r"unit graph is disconnected: 2 components; units \[2, 3\]"):
        partition(graph, np.ones(4), 2, None, 0.05, rng)


def test_conflicting_locks_are_infeasible(rng: np.random.Generator) -> None:
    graph = lattice_graph(1, 5)
    with pytest.raises(InfeasibleError, match="locks conflict: unit 0 and unit 4 are locked to district 0"):
        partition(graph, np.ones(5), 2, None, 0.5, rng, locked={0: 0, 2: 1, 4: 0})


def test_negative_households_are_rejected(rng: np.random.Generator) -> None:
    graph = lattice_graph(1, 3)
    with pytest.raises(InputError, match=r"unit 1 has an invalid household count -2\.0"):
        partition(graph, np.array([1.0, -2.0, 1.0]), 1, None, 0.05, rng)


def test_oversize_unit_is_reported(rng: np.random.Generator) -> None:
    graph = lattice_graph(1, 4)
    result = partition(graph, np.array([120.0, 10, 10, 60]), 2, None, 0.05, rng)
    assert result.oversize_units == (0,)
    assert result.out_of_tolerance == (0, 1)  # 120 vs 80: the heavy unit pushes both out


def test_a_unit_heavier_than_a_district_gives_a_valid_quiet_seed(capfd: pytest.CaptureFixture[str]) -> None:
    from boundaries.seed import metis_seed

    graph = lattice_graph(4, 4)
    households = np.r_[24_000.0, np.full(15, 100.0)]  # METIS complains: "too many parts"
    labels = metis_seed(graph, households, 8, np.random.default_rng(1))
    assert sorted(set(labels.tolist())) == list(range(8))
    assert capfd.readouterr().out == ""

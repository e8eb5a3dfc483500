"""Nested street -> communities -> grids: nesting, contiguity, executors, grid-level split units."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.constraints import is_contiguous
from boundaries.errors import InfeasibleError
from boundaries.executor import ProcessExecutor, SerialExecutor, subproblem_rng
from boundaries.graph import UnitGraph, lattice_graph
from boundaries.partition import GridUnits, HierarchyResult, LevelOptions, partition_hierarchy
from boundaries.synthetic import city_lattice

COMMUNITY = LevelOptions(target=400.0, tolerance=0.05)
GRID = LevelOptions(target=100.0, tolerance=0.10)


def small_city() -> tuple[UnitGraph, np.ndarray, np.ndarray]:
    """16 x 16 clustered lattice with two streets (west and east halves)."""
    city = city_lattice(16, 16, 2400, np.random.default_rng(4))
    streets = np.where(np.arange(256) % 16 < 8, "west", "east")
    return city.graph, city.households, streets


def assert_valid_plan(
    graph: UnitGraph, households: np.ndarray, streets: np.ndarray, plan: HierarchyResult
) -> None:
    """Every unit assigned once; districts contiguous; grids inside communities inside streets."""
    assert (plan.community >= 0).all() and (plan.grid >= 0).all()
    assert is_contiguous(graph, plan.community) and is_contiguous(graph, plan.grid)
    street_of_community = np.asarray(plan.community_street)[plan.community]
    assert np.array_equal(street_of_community, streets)
    assert np.array_equal(plan.grid_community[plan.grid], plan.community)
    assert np.bincount(plan.grid, households).sum() == pytest.approx(households.sum())


def test_hierarchy_nests_and_meets_targets() -> None:
    graph, households, streets = small_city()
    plan = partition_hierarchy(graph, households, streets, 7, community=COMMUNITY, grid=GRID)
    assert_valid_plan(graph, households, streets, plan)
    assert len(plan.community_street) == 6
    assert plan.community_metrics.dev_max <= 0.05
    within = [r.metrics.share_within_10pct * r.k for r in plan.community_results]
    assert sum(within) / len(plan.grid_community) >= 0.9  # against each community's mean


def test_counts_per_street_are_respected() -> None:
    graph, households, streets = small_city()
    community = LevelOptions(target=400.0, tolerance=0.05, counts={"west": 2, "east": 4})
    plan = partition_hierarchy(graph, households, streets, 7, community=community, grid=GRID)
    assert plan.community_street.count("west") == 2
    assert plan.community_street.count("east") == 4


def test_process_executor_gives_the_serial_plan() -> None:
    graph, households, streets = small_city()
    serial = partition_hierarchy(
        graph, households, streets, 11, community=COMMUNITY, grid=GRID, executor=SerialExecutor()
    )
    pooled = partition_hierarchy(
        graph, households, streets, 11, community=COMMUNITY, grid=GRID, executor=ProcessExecutor(2)
    )
    assert np.array_equal(serial.community, pooled.community)
    assert np.array_equal(serial.grid, pooled.grid)


def test_minimal_disruption_keeps_a_feasible_plan() -> None:
    graph, households, streets = small_city()
    first = partition_hierarchy(graph, households, streets, 5, community=COMMUNITY, grid=GRID)
    again = partition_hierarchy(
        graph,
        households,
        streets,
        99,
        community=LevelOptions(400.0, 0.05, current=first.community),
        grid=LevelOptions(100.0, 0.10, current=first.grid),
        minimal_disruption=True,
    )
    assert np.array_equal(again.community, first.community)
    assert again.community_metrics.households_moved == 0
    feasible = [c for c, r in enumerate(first.community_results) if r.metrics.share_within_10pct == 1.0]
    assert feasible, "fixture should have communities whose grids already meet the tolerance"
    kept = np.isin(first.community, feasible)
    assert np.array_equal(again.grid[kept], first.grid[kept])
    share_feasible = households[kept].sum() / households.sum()
    assert again.share_unchanged >= share_feasible


def test_locked_community_must_exist_in_the_street() -> None:
    graph, households, streets = small_city()
    current = np.where(streets == "west", 0, 1)
    locked = np.full(256, -1)
    locked[0] = 1  # unit 0 is in the west street, community 1 only exists in the east
    with pytest.raises(
        InfeasibleError, match="unit 0 is locked to district 1, which has no units in parent west"
    ):
        partition_hierarchy(
            graph,
            households,
            streets,
            1,
            community=LevelOptions(400.0, 0.05, current=current, locked=locked),
            grid=GRID,
        )


def test_grid_level_can_use_split_units() -> None:
    graph = lattice_graph(2, 2)
    households = np.array([250.0, 50, 50, 50])
    # Unit 0 (250 households) is split into 3 grid units chained east of each other.
    split_graph = lattice_graph(1, 6)
    split = GridUnits(graph=split_graph, households=[84.0, 83, 83, 50, 50, 50], parent=[0, 0, 0, 1, 3, 2])
    plan = partition_hierarchy(
        graph,
        households,
        np.full(4, "s"),
        3,
        community=LevelOptions(400.0, 0.05),
        grid=LevelOptions(100.0, 0.2),
        grid_units=split,
    )
    assert plan.grid.shape == (6,)
    assert np.array_equal(plan.grid_community[plan.grid], plan.community[[0, 0, 0, 1, 3, 2]])


def test_subproblem_rng_depends_on_seed_and_key_only() -> None:
    a = subproblem_rng(1, "street/x").integers(1 << 30, size=3)
    b = subproblem_rng(1, "street/x").integers(1 << 30, size=3)
    c = subproblem_rng(1, "street/y").integers(1 << 30, size=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_errors_name_the_street_and_the_callers_unit_index() -> None:
    graph = lattice_graph(1, 6)
    streets = np.array(["a", "b", "a", "a", "b", "b"])
    with pytest.raises(
        InfeasibleError, match=r"street/a: unit graph is disconnected: .* units \[0\] are cut off from unit 2"
    ):
        partition_hierarchy(graph, np.full(6, 200.0), streets, 1, community=COMMUNITY, grid=GRID)

"""Several areas (a city's districts) on one executor: one batch per level, the plans they get alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from boundaries.executor import SerialExecutor
from boundaries.partition import (
    HierarchyProblem,
    LevelOptions,
    iter_hierarchies,
    partition_hierarchies,
    partition_hierarchy,
)
from boundaries.synthetic import city_lattice

COMMUNITY = LevelOptions(target=300.0, tolerance=0.05)
GRID = LevelOptions(target=100.0, tolerance=0.10)


class CountingExecutor(SerialExecutor):
    """Serial, but remembers how many tasks each batch got."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Sequence[Any], progress: Any = None
    ) -> Iterator[tuple[int, Any]]:
        self.batches.append(len(tasks))
        return super().map_unordered(fn, tasks, progress)


def two_areas() -> list[HierarchyProblem]:
    """A 6 x 6 area with two streets and a 4 x 6 area with one street (different worlds)."""
    west = city_lattice(6, 6, 1200, np.random.default_rng(1), with_barriers=False)
    east = city_lattice(4, 6, 600, np.random.default_rng(2), with_barriers=False)
    west_streets = np.where(np.arange(36) % 6 < 3, "420102001", "420102002")
    east_streets = np.full(24, "420113001")
    return [
        HierarchyProblem(west.graph, west.households, west_streets, 9, COMMUNITY, GRID),
        HierarchyProblem(east.graph, east.households, east_streets, 9, COMMUNITY, GRID),
    ]


def test_areas_run_in_one_batch_per_level() -> None:
    executor = CountingExecutor()
    results = partition_hierarchies(two_areas(), executor)
    communities = sum(len(result.community_street) for result in results)
    assert executor.batches == [3, communities]  # 3 streets, then every community of both areas


def test_each_area_gets_the_plan_it_gets_alone() -> None:
    problems = two_areas()
    together = partition_hierarchies(problems, SerialExecutor())
    for problem, batched in zip(problems, together, strict=True):
        alone = partition_hierarchy(
            problem.graph, problem.households, problem.streets, problem.seed, community=COMMUNITY, grid=GRID
        )
        assert np.array_equal(batched.community, alone.community)
        assert np.array_equal(batched.grid, alone.grid)
        assert batched.community_street == alone.community_street


def test_areas_come_out_as_their_last_community_is_done() -> None:
    problems = two_areas()
    finished = list(iter_hierarchies(problems, SerialExecutor()))
    assert sorted(area for area, _ in finished) == [0, 1]
    together = partition_hierarchies(problems, SerialExecutor())
    for area, result in finished:
        assert np.array_equal(result.grid, together[area].grid)

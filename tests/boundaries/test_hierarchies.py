"""Several areas (a city's districts) on one executor, each at its own pace: the plans they get alone."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from boundaries.executor import SerialExecutor, SerialStream, TaskStream
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


class RecordingStream(SerialStream):
    """Serial, but remembers every submission and every result, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any, int]] = []

    def submit(self, tag: Hashable, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        self.events.append(("submit", tag, priority))
        return super().submit(tag, fn, *args, priority=priority)

    def __iter__(self) -> Iterator[tuple[Hashable, Any]]:
        for tag, result in super().__iter__():
            self.events.append(("done", tag, 0))
            yield tag, result


class RecordingExecutor(SerialExecutor):
    """A serial executor whose stream records what happened."""

    def __init__(self) -> None:
        self.recorded = RecordingStream()

    @contextmanager
    def stream(self) -> Iterator[TaskStream]:
        yield self.recorded


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


def test_an_area_goes_on_to_its_grids_without_waiting_for_the_others() -> None:
    executor = RecordingExecutor()
    partition_hierarchies(two_areas(), executor)
    events = executor.recorded.events
    first_grid_of_east = events.index(next(e for e in events if e[1][:2] == ("community", 1)))
    last_street_of_west = max(i for i, e in enumerate(events) if e[0] == "done" and e[1][:2] == ("street", 0))
    assert first_grid_of_east < last_street_of_west  # no barrier between the areas' levels
    ran = [tag for kind, tag, _ in events if kind == "done"]
    assert ran[0] == ("street", 1, 0)  # the largest subproblem first: 24 units against 18 and 18
    priority = {tag: p for kind, tag, p in events if kind == "submit"}
    assert priority[("street", 1, 0)] == 24 and priority[("street", 0, 0)] == 18


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

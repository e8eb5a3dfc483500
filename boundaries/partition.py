"""Public API: single-level `partition` and nested street -> communities -> grids `partition_hierarchy`."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.busy import Shedding, choose_draws
from boundaries.errors import BoundariesError, InputError, SubproblemError
from boundaries.executor import (
    SerialExecutor,
    SubproblemExecutor,
    TaskStream,
    in_task_order,
    subproblem_rng,
)
from boundaries.graph import UnitGraph
from boundaries.hierarchy import (
    GridUnits,
    HierarchyProblem,
    HierarchyResult,
    LevelOptions,
    Subproblem,
)
from boundaries.level_parts import (
    grid_inputs,
    grid_parent,
    level_band,
    level_capacity,
    level_metrics,
    local_labels,
    number_districts,
    search_tolerance,
    solve_level_task,
    unchanged,
    with_children,
)
from boundaries.pair_cut import AreaPieces, lighten_busy_grids
from boundaries.score import Weights
from boundaries.solve import PartitionResult, partition
from boundaries.workload import busy_line, workload_counts, workload_inputs

__all__ = [
    "GridUnits",
    "Hierarchies",
    "HierarchyProblem",
    "HierarchyResult",
    "LevelOptions",
    "PartitionResult",
    "Subproblem",
    "Weights",
    "iter_hierarchies",
    "partition",
    "partition_hierarchies",
    "partition_hierarchy",
    "solve_subproblem",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
ProgressLog = Callable[[str, int, int], None]


def solve_subproblem(task: Subproblem) -> PartitionResult:
    """Solve one subproblem with the generator derived from (seed, key).

    Every failure leaves as a BoundariesError whose message starts with the parent's key
    ("street/420106007: ..."): library errors keep their class, anything unexpected becomes a
    SubproblemError carrying the traceback text. Both pickle with their message, so the error
    reads the same from a local process or a Dask worker.
    """
    try:
        return _solve(task)
    except BoundariesError as error:
        raise type(error)(f"{task.key}: {error}") from None
    except Exception as error:
        raise SubproblemError(
            f"{task.key}: unexpected {type(error).__name__}: {error}", detail=traceback.format_exc()
        ) from None


def _solve(task: Subproblem) -> PartitionResult:
    """Run `partition` on one subproblem (level_parts.solve_task: with a band, a count it cannot
    hold steps towards the nominal count; solve_level_task: districts that strand pendant units
    for their children are redrawn)."""
    return solve_level_task(task)


def partition_hierarchy(
    graph: UnitGraph,
    households: ArrayLike,
    streets: Sequence[str] | NDArray[np.str_],
    seed: int,
    *,
    community: LevelOptions = LevelOptions(target=3000.0, tolerance=0.05),
    grid: LevelOptions = LevelOptions(target=300.0, tolerance=0.10),
    grid_units: GridUnits | None = None,
    weights: Weights = Weights(),
    minimal_disruption: bool = False,
    executor: SubproblemExecutor | None = None,
    progress: ProgressLog | None = None,
    workload: ArrayLike | None = None,
) -> HierarchyResult:
    """Communities inside each (fixed) street, then grids inside each community, via `executor`.

    `workload` (per unit, with `grid_units.workload` per grid unit) is the second weight whose
    spread `weights.workload` evens out at both levels."""
    problem = HierarchyProblem(
        graph, households, streets, seed, community, grid, grid_units, weights, minimal_disruption, workload
    )
    return partition_hierarchies([problem], executor, progress)[0]


def partition_hierarchies(
    problems: Sequence[HierarchyProblem],
    executor: SubproblemExecutor | None = None,
    progress: ProgressLog | None = None,
) -> list[HierarchyResult]:
    """Several independent areas on one executor, with no barrier between them (`Hierarchies`), so
    the workers stay busy across areas. Subproblems draw from
    (seed, key) alone, so each area gets the plan `partition_hierarchy` gives it on its own."""
    return in_task_order(iter_hierarchies(problems, executor, progress), len(problems))


def iter_hierarchies(
    problems: Sequence[HierarchyProblem],
    executor: SubproblemExecutor | None = None,
    progress: ProgressLog | None = None,
) -> Iterator[tuple[int, HierarchyResult]]:
    """partition_hierarchies yielding (problem index, result) as each area's last community is
    done, while the workers go on with the other areas' subproblems."""
    run = executor or SerialExecutor()
    with run.stream() as stream:
        areas = Hierarchies(stream, progress)
        for index, problem in enumerate(problems):
            finished = areas.add(index, problem)
            if finished is not None:
                yield index, finished
        for tag, result in stream:
            finished = areas.take(tag, result)
            if finished is not None:
                yield tag[1], finished  # type: ignore[index]


class Hierarchies:
    """Areas (a city's districts) driven through one task stream with no barrier between them:
    an area's streets are submitted when it is added, its communities as soon as its own streets
    are done, and its result is assembled as soon as its own communities are done. Higher-ranked
    areas go first, and within an area larger subproblems (priority = units), so no big street is
    left to run alone at the end.
    Results are keyed by (area, position), so the order they finish in changes nothing."""

    def __init__(self, stream: TaskStream, progress: ProgressLog | None = None) -> None:
        self.stream = stream
        self.progress = progress
        self.areas: dict[Hashable, _AreaSteps] = {}
        self.counts = {STREET_TAG: [0, 0], COMMUNITY_TAG: [0, 0]}  # stage: [done, submitted]

    @staticmethod
    def owns(tag: Hashable) -> bool:
        """Is this a result of one of the areas' subproblems?"""
        return isinstance(tag, tuple) and tag[0] in (STREET_TAG, COMMUNITY_TAG)

    def add(self, area: Hashable, problem: HierarchyProblem, rank: int = 0) -> HierarchyResult | None:
        """Submit the area's streets (its result at once if it has none). Areas of higher `rank`
        go first (a city gives its largest districts the highest, so that the largest is not
        the one left to finish alone at the end)."""
        steps = _AreaSteps(problem, _StreetLevel.of(problem), rank)
        self.areas[area] = steps
        self._submit(STREET_TAG, area, steps.streets.tasks)
        return self._advance(area) if not steps.streets.tasks else None

    def take(self, tag: Hashable, result: PartitionResult) -> HierarchyResult | None:
        """Record one subproblem's result; the area's result when that was its last."""
        stage, area, position = cast(tuple[str, Hashable, int], tag)
        steps = self.areas[area]
        found = steps.street_results if stage == STREET_TAG else steps.grid_results
        found[position] = result
        steps.left -= 1
        self.counts[stage][0] += 1
        if self.progress is not None:
            self.progress(STAGE_NAMES[stage], *self.counts[stage])
        return self._advance(area) if steps.left == 0 else None

    def _advance(self, area: Hashable) -> HierarchyResult | None:
        """Streets done: submit the communities; communities done: the area's result."""
        steps = self.areas[area]
        if steps.grids is None:
            steps.grids = _GridLevel.of(steps.problem, steps.streets, steps.street_results)  # type: ignore[arg-type]
            steps.grid_results = [None] * len(steps.grids.tasks)
            self._submit(COMMUNITY_TAG, area, steps.grids.tasks)
            if steps.grids.tasks:
                return None
        del self.areas[area]
        return _assemble(steps.problem, steps.streets, steps.street_results, steps.grids, steps.grid_results)  # type: ignore[arg-type]

    def _submit(self, stage: str, area: Hashable, tasks: Sequence[Subproblem]) -> None:
        self.areas[area].left = len(tasks)
        self.counts[stage][1] += len(tasks)
        rank = self.areas[area].rank * AREA_RANK_STEP
        for position, task in enumerate(tasks):
            priority = rank + min(task.graph.n, AREA_RANK_STEP - 1)
            self.stream.submit((stage, area, position), solve_subproblem, task, priority=priority)


STREET_TAG, COMMUNITY_TAG = "street", "community"
# An area's rank outweighs the size of any subproblem (units per subproblem stay far below this).
AREA_RANK_STEP = 10**6
STAGE_NAMES = {STREET_TAG: "communities", COMMUNITY_TAG: "grids"}


@dataclass
class _AreaSteps:
    """One area on its way through both levels: results so far and how many are still out."""

    problem: HierarchyProblem
    streets: _StreetLevel
    rank: int = 0
    street_results: list[PartitionResult | None] = field(default_factory=list)
    grids: _GridLevel | None = None
    grid_results: list[PartitionResult | None] = field(default_factory=list)
    left: int = 0

    def __post_init__(self) -> None:
        self.street_results = [None] * len(self.streets.tasks)


@dataclass(frozen=True)
class _StreetLevel:
    """One area's community-level subproblems (a street each)."""

    households: FloatArray
    streets: NDArray[np.str_]
    keys: list[str]
    units_of: list[IntArray]
    tasks: list[Subproblem]
    work: tuple[FloatArray, FloatArray] | None

    @classmethod
    def of(cls, problem: HierarchyProblem) -> _StreetLevel:
        graph = problem.graph
        weights_arr = np.asarray(problem.households, dtype=np.float64)
        street_arr = np.asarray(problem.streets).astype(str)
        if street_arr.shape != (graph.n,) or weights_arr.shape != (graph.n,):
            raise InputError(f"streets and households need one entry per unit ({graph.n})")
        grid_units = problem.grid_units
        grid_work = None if grid_units is None else grid_units.workload
        work = workload_inputs(graph.n, problem.workload, grid_work, grid_units is not None)
        keys = sorted(set(street_arr.tolist()))
        community = problem.community
        if community.capacity is None and work is not None:
            community = replace(community, capacity=level_capacity(problem.grid, weights_arr, work[0]))
        tasks = [
            _level_task(
                graph,
                weights_arr,
                street_arr == key,
                key,
                f"street/{key}",
                community,
                problem.seed,
                problem.weights,
                problem.minimal_disruption,
                None if work is None else work[0],
            )
            for key in keys
        ]
        units_of = [np.flatnonzero(street_arr == key) for key in keys]
        if community.capacity is not None:
            tasks = with_children(tasks, units_of, graph, weights_arr, grid_units)
        return cls(weights_arr, street_arr, keys, units_of, tasks, work)


@dataclass(frozen=True)
class _GridLevel:
    """One area's grid-level subproblems (a community each), from its community-level results."""

    community_of: IntArray
    community_street: list[str]
    global_ids: IntArray
    graph: UnitGraph
    households: FloatArray
    community: IntArray
    units_of: list[IntArray]
    tasks: list[Subproblem]

    @classmethod
    def of(
        cls, problem: HierarchyProblem, streets: _StreetLevel, results: Sequence[PartitionResult]
    ) -> _GridLevel:
        n = problem.graph.n
        community_of, community_street, global_ids = number_districts(
            n, streets.tasks, results, streets.streets
        )
        g_graph, g_households, g_community = grid_inputs(
            problem.graph, streets.households, community_of, problem.grid_units
        )
        count = len(community_street)
        grid, work = problem.grid, None if streets.work is None else streets.work[1]
        if work is not None and grid.count_tolerance is not None:
            counts, searches = workload_counts(
                g_households, work, g_community, count, grid.target, grid.count_tolerance
            )
            grid = replace(grid, counts=counts, tolerances=searches)
        tasks = [
            _level_task(
                g_graph,
                g_households,
                g_community == c,
                str(c),
                f"community/{c}",
                grid,
                problem.seed,
                problem.weights,
                problem.minimal_disruption,
                work,
            )
            for c in range(count)
        ]
        if work is not None and grid.counts is not None and grid.band_tolerance is not None:
            # where the draws are chosen from after shedding (_assemble): grids with work in a band
            line = busy_line(work, grid.counts, grid.weights or problem.weights)
            tasks = [replace(task, busy_work=line) for task in tasks]
        units_of = [np.flatnonzero(g_community == c) for c in range(count)]
        return cls(
            community_of, community_street, global_ids, g_graph, g_households, g_community, units_of, tasks
        )


def _assemble(
    problem: HierarchyProblem,
    streets: _StreetLevel,
    street_results: Sequence[PartitionResult],
    grids: _GridLevel,
    grid_results: Sequence[PartitionResult],
) -> HierarchyResult:
    """One area's nested plan with its metrics, from its two levels of results."""
    graph, g_graph, g_households = problem.graph, grids.graph, grids.households
    grid_of, _, _ = number_districts(g_graph.n, grids.tasks, grid_results, grids.community.astype(str))
    grid_community = np.concatenate([np.full(r.k, c) for c, r in enumerate(grid_results)]).astype(np.int64)
    community_of = grids.community_of.copy()
    if streets.work is not None and problem.grid.band_tolerance is not None:
        parent = grid_parent(graph.n, problem.grid_units)
        shedding = Shedding(g_graph.neighbour_lists(), graph.neighbour_lists(), g_households,
                            streets.work[1], parent, community_of, grids.community_street)  # fmt: skip
        line = grids.tasks[0].busy_work if grids.tasks else None
        if line is not None:
            chosen = choose_draws(grid_results, grids.units_of, grid_of, grid_community, shedding, line)
            grid_results, grid_of = chosen
        shedding.shed(grid_of, community_of, grid_community)
        if line is not None:
            pieces = AreaPieces(shedding.piece_nbrs, shedding.households, shedding.work)
            bands = [task.band for task in grids.tasks]
            lighten_busy_grids(
                pieces, grid_of, grid_community, bands, line, subproblem_rng(problem.seed, "pair_cut")
            )
    kept = unchanged(g_graph.n, grids.units_of, grids.tasks, grid_results, problem.grid.current)
    kept &= unchanged(graph.n, streets.units_of, streets.tasks, street_results, problem.community.current)[
        grid_parent(graph.n, problem.grid_units)
    ]
    return HierarchyResult(
        community=community_of,
        community_street=grids.community_street,
        community_metrics=level_metrics(
            graph, streets.households, community_of, grids.global_ids, problem.community, street_results
        ),
        grid=grid_of,
        grid_community=grid_community,
        grid_metrics=level_metrics(
            g_graph, g_households, grid_of, grid_community, problem.grid, grid_results, nominal=True
        ),
        share_unchanged=float(g_households[kept].sum() / max(g_households.sum(), 1.0)),
        street_results=dict(zip(streets.keys, street_results, strict=True)),
        community_results=list(grid_results),
    )


def _level_task(
    graph: UnitGraph,
    households: FloatArray,
    mask: NDArray[np.bool_],
    parent_key: str,
    task_key: str,
    level: LevelOptions,
    seed: int,
    weights: Weights,
    minimal: bool,
    workload: FloatArray | None = None,
) -> Subproblem:
    """Subproblem for the units of one parent, with current/locked ids mapped to local labels."""
    units = np.flatnonzero(mask)
    current, locked, ids = local_labels(units, level, parent_key)
    count = None if level.counts is None else level.counts.get(parent_key)
    total = float(households[units].sum())
    return Subproblem(
        key=task_key,
        graph=graph.subgraph(units),
        households=households[units],
        k=count,
        target=level.target,
        tolerance=(
            level.tolerances.get(parent_key, level.tolerance)
            if level.tolerances is not None
            else search_tolerance(level, total, count)
        ),
        seed=seed,
        current=current,
        locked=locked,
        weights=level.weights or weights,
        minimal_disruption=minimal and current is not None,
        label_ids=ids,
        unit_ids=units,
        workload=None if workload is None else workload[units],
        band=level_band(level, total, count),
        capacity=level.capacity,
    )

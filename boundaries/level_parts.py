"""The bookkeeping around one level of a hierarchy: a parent's units mapped to local labels and
back, districts numbered across parents, the grid level's inputs, and the level's metrics. Kept
apart from `boundaries.partition`, which schedules the levels, so each stays readable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.band import HouseholdBand
from boundaries.errors import InfeasibleError
from boundaries.executor import subproblem_rng
from boundaries.graph import UnitGraph
from boundaries.hierarchy import GridUnits, LevelOptions, Subproblem
from boundaries.metrics import PlanMetrics, plan_metrics
from boundaries.minmax_split import busiest_work
from boundaries.pendants import ChildUnits
from boundaries.score import Capacity
from boundaries.solve import PartitionResult, nearest_count, partition

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
# The narrowest band a parent searches with when its mean lies far off the nominal target.
MIN_SEARCH_TOLERANCE = 0.01
STRANDED_REDRAWS = 3
"""Further draws of a parent whose districts strand pendant units (solve_level_task)."""
BUSY_DRAWS = 3
"""Draws in all of a parent whose busiest district carries more than its task's `busy_work`
(with_alternatives): the search is seeded, and a community's busiest grid differs between draws
(on the demo from 1.16 to 1.56 × the mean)."""


def local_labels(
    units: IntArray, level: LevelOptions, parent_key: str
) -> tuple[IntArray | None, IntArray | None, tuple[int, ...]]:
    """Map global current/locked ids of a parent's units to local labels 0..m-1, plus each label's id."""
    current = None if level.current is None else np.asarray(level.current, dtype=np.int64)[units]
    locked = None if level.locked is None else np.asarray(level.locked, dtype=np.int64)[units]
    source = current if current is not None else locked
    if source is None:
        return None, None, ()
    ids = tuple(np.unique(source[source >= 0]).tolist())
    table = {gid: i for i, gid in enumerate(ids)}
    local_current = None if current is None else lookup(table, current)
    if locked is None:
        return local_current, None, ids
    for unit, gid in zip(units.tolist(), locked.tolist(), strict=True):
        if gid >= 0 and gid not in table:
            raise InfeasibleError(
                f"unit {unit} is locked to district {gid}, which has no units in parent {parent_key}"
            )
    return local_current, lookup(table, locked), ids


def lookup(table: dict[int, int], values: IntArray) -> IntArray:
    """Local label per global id (-1 where unknown)."""
    return np.array([table.get(v, -1) for v in values.tolist()], dtype=np.int64)


def unchanged(
    n: int,
    units_of: Sequence[IntArray],
    tasks: Sequence[Subproblem],
    results: Sequence[PartitionResult],
    current: ArrayLike | None,
) -> NDArray[np.bool_]:
    """Per unit: does it keep its current district (by global id)? All False without a current plan."""
    same = np.zeros(n, dtype=bool)
    if current is None:
        return same
    before = np.asarray(current, dtype=np.int64)
    for units, task, result in zip(units_of, tasks, results, strict=True):
        ids = np.asarray(task.label_ids + (-2,) * result.k, dtype=np.int64)
        same[units] = ids[result.assignment] == before[units]
    return same


def number_districts(
    n: int, tasks: Sequence[Subproblem], results: Sequence[PartitionResult], parent_of: NDArray[np.str_]
) -> tuple[IntArray, list[str], IntArray]:
    """Global district ids (parents in task order, local labels within), parent key and index per district."""
    labels = np.full(n, -1, dtype=np.int64)
    owners: list[str] = []
    parent_index: list[int] = []
    offset = 0
    for index, (task, result) in enumerate(zip(tasks, results, strict=True)):
        key = task.key.split("/", 1)[1]
        labels[np.flatnonzero(parent_of == key)] = result.assignment + offset
        owners.extend([key] * result.k)
        parent_index.extend([index] * result.k)
        offset += result.k
    return labels, owners, np.asarray(parent_index, dtype=np.int64)


def grid_inputs(
    graph: UnitGraph, households: FloatArray, community_of: IntArray, grid_units: GridUnits | None
) -> tuple[UnitGraph, FloatArray, IntArray]:
    """Graph, households and community per unit for the grid level (split units if given)."""
    if grid_units is None:
        return graph, households, community_of
    parent = np.asarray(grid_units.parent, dtype=np.int64)
    return grid_units.graph, np.asarray(grid_units.households, dtype=np.float64), community_of[parent]


def with_children(
    tasks: Sequence[Subproblem],
    units_of: Sequence[IntArray],
    graph: UnitGraph,
    households: FloatArray,
    grid_units: GridUnits | None,
) -> list[Subproblem]:
    """The parents' tasks, each with the units the child level splits its units into (a grid's
    pieces), so that districts stranding pendant units can be redrawn (solve_level_task)."""
    pieces = grid_inputs(graph, households, np.arange(graph.n, dtype=np.int64), grid_units)
    return [
        replace(task, children=ChildUnits.of(*pieces, units))
        for task, units in zip(tasks, units_of, strict=True)
    ]


def grid_parent(n: int, grid_units: GridUnits | None) -> IntArray:
    """Community-level unit of each grid-level unit."""
    if grid_units is None:
        return np.arange(n, dtype=np.int64)
    return np.asarray(grid_units.parent, dtype=np.int64)


def level_metrics(
    graph: UnitGraph,
    households: FloatArray,
    labels: IntArray,
    parent_of_district: IntArray,
    level: LevelOptions,
    results: Sequence[PartitionResult],
    nominal: bool = False,
) -> PlanMetrics:
    """Metrics over a whole level; deviation against each parent's mean, or against the nominal target."""
    k = int(labels.max()) + 1
    totals = np.bincount(labels, households, minlength=k)
    target: float | FloatArray = level.target
    if not nominal:
        parent_mean = np.bincount(parent_of_district, totals) / np.bincount(parent_of_district)
        target = parent_mean[parent_of_district]
    metrics = plan_metrics(graph, households, labels, k, target)
    if level.current is None:
        return metrics
    moved = sum(result.metrics.households_moved for result in results)
    share = 1.0 - moved / max(float(households.sum()), 1.0)
    return replace(metrics, households_moved=moved, share_unchanged=share)


def level_band(level: LevelOptions, total: float, count: int | None) -> HouseholdBand | None:
    """The hard household band of one parent's districts (None without one)."""
    if level.band_tolerance is None:
        return None
    centre = level.target
    if level.band_around_mean:
        centre = total / max(count or nearest_count(total, level.target), 1)
    return HouseholdBand.around(centre, level.band_tolerance)


def level_capacity(
    child: LevelOptions, households: FloatArray, workload: FloatArray | None
) -> Capacity | None:
    """What a parent's households allow its children, when the child level has a band and there
    is work (else None): children of at least the band's floor (255 for grids of 300 ± 15 %),
    each to carry the area's mean work per child (its work per household × the child target)."""
    total, work = float(households.sum()), 0.0 if workload is None else float(workload.sum())
    if child.band_tolerance is None or total <= 0 or work <= 0:
        return None
    tolerance = child.band_tolerance
    return Capacity(
        child.target * (1.0 - tolerance), work / total * child.target, child.target * (1.0 + tolerance)
    )


def search_tolerance(level: LevelOptions, total: float, count: int | None) -> float:
    """The tolerance one parent searches with: the level's, narrowed where the parent's mean lies off
    the target so that its districts stay within the nominal tolerance (never below 1 %)."""
    if level.nominal_tolerance is None or level.target <= 0:
        return level.tolerance
    mean = total / max(count or nearest_count(total, level.target), 1)
    slack = level.nominal_tolerance - abs(mean - level.target) / level.target
    return min(level.tolerance, max(MIN_SEARCH_TOLERANCE, slack))


def solve_task(task: Subproblem) -> PartitionResult:
    """Run `partition` on one subproblem. With a band and a given count that leaves districts
    outside it (a count at the edge of what the households allow: 3,085 households in 9 grids of
    at most 345 leaves every grid within 4 households of the ceiling), one step towards the count
    nearest the target is tried too, and kept if fewer districts stay outside."""
    result = _partition(task, task.k)
    if not result.out_of_band or task.band is None or task.k is None:
        return result
    nominal = nearest_count(float(task.households.sum()), task.target)
    if nominal == task.k:
        return result
    retry = _partition(task, task.k + (1 if nominal > task.k else -1))
    return retry if len(retry.out_of_band) < len(result.out_of_band) else result


def solve_level_task(task: Subproblem) -> PartitionResult:
    """solve_task, then, for a level whose children have a band (communities in 'both'), a
    redraw of the parent where a district holds a unit whose pendant parts no child split can
    keep in the child band (boundaries.pendants): up to STRANDED_REDRAWS more draws from
    generators derived from the task's key, the first with fewer such districts (and no more
    districts outside the band) kept. A parent with a busy district is drawn again too
    (with_alternatives)."""
    result = with_alternatives(task, solve_task(task))
    capacity, children = task.capacity, task.children
    if capacity is None or children is None or not math.isfinite(capacity.ceiling):
        return result
    child = HouseholdBand(capacity.floor, capacity.ceiling)
    left = len(children.stranded(result.assignment, result.k, child))
    for draw in range(1, STRANDED_REDRAWS + 1):
        if not left:
            break
        again = _partition(task, result.k, f"redraw{draw}")
        now = len(children.stranded(again.assignment, again.k, child))
        if now < left and len(again.out_of_band) <= len(result.out_of_band):
            result, left = again, now
    return result


def with_alternatives(task: Subproblem, result: PartitionResult) -> PartitionResult:
    """`result` carrying BUSY_DRAWS - 1 further draws of the same count (generators derived from
    the task's key; those with more districts outside the band left out) when its busiest
    district carries more than `task.busy_work`; which one is kept is decided over the whole
    area, after shedding (boundaries.busy.choose_draws)."""
    if task.busy_work is None or task.workload is None:
        return result
    if busiest_work(result.assignment, task.workload, result.k) <= task.busy_work:
        return result
    draws = (_partition(task, result.k, f"busy{draw}") for draw in range(1, BUSY_DRAWS))
    others = tuple(again for again in draws if len(again.out_of_band) <= len(result.out_of_band))
    return replace(result, alternatives=others)


def _partition(task: Subproblem, k: int | None, draw: str = "") -> PartitionResult:
    return partition(
        task.graph,
        task.households,
        k,
        task.target,
        task.tolerance,
        subproblem_rng(task.seed, f"{task.key}/{draw}" if draw else task.key),
        current=task.current,
        locked=task.locked,
        weights=task.weights,
        minimal_disruption=task.minimal_disruption,
        unit_ids=task.unit_ids,
        workload=task.workload,
        band=task.band,
        capacity=task.capacity,
    )

"""Single-level partition of one parent's units into k contiguous districts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.anneal import AnnealReport, Schedule, anneal
from boundaries.band import SLACK, HouseholdBand, band_violation, infeasibility, repair_model
from boundaries.band_split import band_split
from boundaries.capacity import capacity_resplit
from boundaries.constraints import (
    UNLOCKED,
    UnitNames,
    check_locks,
    fixed_boundary_locks,
    is_contiguous,
    lock_array,
    require_connected,
    unit_name,
)
from boundaries.errors import BoundariesError, InfeasibleError, InputError
from boundaries.graph import UnitGraph
from boundaries.metrics import PlanMetrics, plan_metrics
from boundaries.minmax_split import minmax_resplit
from boundaries.recom import recom_repair
from boundaries.recom_work import recom_workload
from boundaries.score import Capacity, ScoreModel, Weights
from boundaries.seed import (
    apply_locks,
    fill_empty_districts,
    match_labels,
    metis_seed,
    repair_contiguity,
)
from boundaries.state import PartitionState

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

# Minimal-disruption mode: households moved dominate, balance only matters beyond tolerance.
MINIMAL_CHANGE_WEIGHT = 20.0
MINIMAL_SCHEDULE = Schedule(rounds=60, start_scale=0.02, greedy_rounds=60)
POLISH_SCHEDULE = Schedule(rounds=0, greedy_rounds=40)
BAND_REPAIR_SCHEDULE = Schedule(rounds=40, start_scale=0.1, greedy_rounds=40)
BAND_REPAIR_CYCLES = 4
"""Flips then re-splits, again while the band's violation keeps falling."""


@dataclass(frozen=True)
class PartitionResult:
    """One parent's plan: district label per unit (0..k-1) and its metrics."""

    assignment: IntArray
    k: int
    target: float
    district_households: FloatArray
    metrics: PlanMetrics
    oversize_units: tuple[int, ...]
    out_of_tolerance: tuple[int, ...] = ()
    search: AnnealReport | None = field(default=None, compare=False)
    out_of_band: tuple[int, ...] = ()
    """With a household band: the districts still outside it (the units allow no better)."""
    band_note: str | None = None
    """With districts outside the band: why, in one line (boundaries.band_split.BandSplit.why_not)."""
    alternatives: tuple[PartitionResult, ...] = field(default=(), compare=False, repr=False)
    """Further draws of the same parent and count, for the caller to choose from (boundaries.busy)."""


def partition(
    units_graph: UnitGraph,
    households: ArrayLike,
    k: int | None,
    target: float | None,
    tolerance: float,
    rng: np.random.Generator,
    *,
    current: ArrayLike | None = None,
    locked: Mapping[int, int] | ArrayLike | None = None,
    fixed_boundaries: Sequence[tuple[int, int]] = (),
    weights: Weights = Weights(),
    minimal_disruption: bool = False,
    schedule: Schedule | None = None,
    unit_ids: ArrayLike | None = None,
    workload: ArrayLike | None = None,
    band: HouseholdBand | None = None,
    capacity: Capacity | None = None,
) -> PartitionResult:
    """Partition units into k contiguous districts balanced around the parent mean.

    k defaults to round(total / target); labels of `current` and `locked` are district
    labels 0..k-1. In minimal-disruption mode the search starts from `current` and a
    current plan that already meets the tolerance is returned unchanged. Error messages name
    units by `unit_ids` (default: their index). With `workload` (a second weight per unit) and
    `weights.workload` > 0 the score also evens out the districts' workload. With `band`, every
    district's households stay within it as a hard rule (boundaries.band): a seed outside it is
    repaired first, no flip or re-split lets its violation grow, and districts that still lie
    outside at the end are listed in `out_of_band`. With `capacity`, the workload term prices each
    district's work per child district its households allow (boundaries.score.Capacity), and
    pair re-splits lift busy districts over a step (boundaries.capacity). Without `capacity`,
    workload and a band together end with an exact re-cut along spanning trees through the plan
    that makes the busiest district lighter where it can (boundaries.minmax_split).
    """
    weights_arr = _households(units_graph, households)
    count = resolve_count(float(weights_arr.sum()), k, target, units_graph.n)
    names = None if unit_ids is None else np.asarray(unit_ids, dtype=np.int64)
    require_connected(units_graph, names)
    current_arr = _current(units_graph, current, minimal_disruption)
    locks = _locks(units_graph, locked, fixed_boundaries, current_arr, count, names)
    mean = float(weights_arr.sum()) / count
    check_locks(units_graph, weights_arr, locks, mean * (1.0 + tolerance), names)
    if minimal_disruption and current_arr is not None:
        start = _minimal_start(units_graph, weights_arr, current_arr, count, rng)
        weights = replace(weights, population=0.0, change=max(weights.change, MINIMAL_CHANGE_WEIGHT))
        schedule = schedule or MINIMAL_SCHEDULE
    else:
        start = _fresh_start(units_graph, weights_arr, count, rng, current_arr, locks)
    start = apply_locks(units_graph, start, locks, weights_arr, names)
    if minimal_disruption and _meets_targets(units_graph, weights_arr, start, count, tolerance, locks, band):
        return _result(units_graph, weights_arr, start, count, tolerance, current_arr, None, band)
    work = None if workload is None else np.asarray(workload, dtype=np.float64)
    model = ScoreModel.build(units_graph, weights_arr, count, tolerance, weights, current_arr, work, capacity)
    state = PartitionState.build(
        start, weights_arr, count, units_graph.area, model.district_perimeter(start, count), work
    )
    movable, nbrs = locks == UNLOCKED, units_graph.neighbour_lists()
    repair_band(model, state, movable, nbrs, rng, band)
    note = resplit_band(model, state, movable, nbrs, rng, band, weights_arr, current_arr)
    plan = schedule or Schedule.for_size(units_graph.n, count)
    report = anneal(model, state, movable, nbrs, rng, plan, band)
    if recom_repair(model, state, movable, nbrs, rng, band=band):
        anneal(model, state, movable, nbrs, rng, POLISH_SCHEDULE, band)
    if work is not None and recom_workload(model, state, movable, nbrs, rng, band):
        anneal(model, state, movable, nbrs, rng, POLISH_SCHEDULE, band)
    if capacity_resplit(model, state, movable, nbrs, rng, band):
        anneal(model, state, movable, nbrs, rng, POLISH_SCHEDULE, band)
    repair_band(model, state, movable, nbrs, rng, band)
    if band_violation(state, band) > SLACK:
        note = resplit_band(model, state, movable, nbrs, rng, band, weights_arr, current_arr)
        if note is None:
            anneal(model, state, movable, nbrs, rng, POLISH_SCHEDULE, band)
    assignment = state.assignment
    if work is not None and band is not None and capacity is None and movable.all():
        # districts of work inside a band (grids): the busiest made lighter where a re-cut can
        assignment = _lighter_busiest(nbrs, weights_arr, work, state, band, rng)
    result = _result(units_graph, weights_arr, assignment, count, tolerance, current_arr, report, band)
    return replace(result, band_note=note) if result.out_of_band else result


def _lighter_busiest(
    nbrs: Sequence[Sequence[int]],
    households: FloatArray,
    work: FloatArray,
    state: PartitionState,
    band: HouseholdBand,
    rng: np.random.Generator,
) -> IntArray:
    """The plan re-cut by boundaries.minmax_split when every district is inside the band."""
    if band_violation(state, band) > SLACK:
        return state.assignment
    return minmax_resplit(nbrs, households, work, state.assignment, state.k, band, rng)


def repair_band(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
) -> None:
    """Pull districts outside the band into it: flips, then re-splits of a district with its
    neighbours, under a score that counts only the band (nothing to do inside it)."""
    if band is None or band.outside(state.district_households).size == 0:
        return
    repair = repair_model(model, band)
    left = float(band.excess(state.district_households).sum())
    for _ in range(BAND_REPAIR_CYCLES):
        anneal(repair, state, movable, nbrs, rng, BAND_REPAIR_SCHEDULE, band)
        if band.outside(state.district_households).size:
            recom_repair(repair, state, movable, nbrs, rng, band=band)
        now = float(band.excess(state.district_households).sum())
        if now <= SLACK or now >= left - SLACK:
            return
        left = now


def resplit_band(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
    households: FloatArray,
    current: IntArray | None,
) -> str | None:
    """Where districts are still outside the band, re-split all the units from scratch into the
    same count with every district inside it (boundaries.band_split), starting the search near
    the plan so far; the state takes the split found. None when nothing is left outside, else
    the one-line reason no split was found (arithmetic, locks, or how far the search went)."""
    if band is None or band.outside(state.district_households).size == 0:
        return None
    plain = infeasibility(band, households, state.k)
    if plain is not None:
        return plain
    if not movable.all():
        return "locked units keep its districts from being re-split"
    split = band_split(nbrs, households, state.k, band, rng, near=state.assignment)
    if split.labels is None:
        return split.why_not(state.k, band, len(nbrs))
    reference = state.assignment if current is None else current
    labels = match_labels(split.labels, reference, households, state.k)
    state.reset(labels, model.district_perimeter(labels, state.k))
    return None


def resolve_count(total: float, k: int | None, target: float | None, units: int) -> int:
    """Number of districts: the count given, or the one whose mean lies nearest the target.

    Without a count, a parent gets at least one district: a street of 2,996 households and a
    target of 3,000 is one community (-0.1 %), and a parent of 7,500 gets 3 districts of 2,500
    (-17 %) rather than round(2.5) = 2 of 3,750 (+25 %). A given count is checked against the
    parent's units; messages name the count so the caller can name the parent.
    """
    if k is None:
        if target is None or target <= 0:
            raise InputError("give a district count or a positive target")
        k = nearest_count(total, target)
    if k < 1:
        raise InfeasibleError(f"district count {k} must be at least 1")
    if k > units:
        raise InfeasibleError(f"district count {k} exceeds the {units} units of the parent")
    return k


def nearest_count(total: float, target: float) -> int:
    """The count >= 1 whose mean total / count deviates least from `target` (ties: more districts)."""
    if total <= target:
        return 1
    low = int(total // target)
    return min((low, low + 1), key=lambda count: (abs(total / count - target), -count))


def _households(graph: UnitGraph, households: ArrayLike) -> FloatArray:
    """Households per unit as floats, checked for length and sign."""
    weights = np.asarray(households, dtype=np.float64)
    if weights.shape != (graph.n,):
        raise InputError(f"households must have one entry per unit ({graph.n}), got {weights.shape}")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        bad = int(np.flatnonzero((weights < 0) | ~np.isfinite(weights))[0])
        raise InputError(f"unit {bad} has an invalid household count {weights[bad]}")
    return weights


def _current(graph: UnitGraph, current: ArrayLike | None, minimal: bool) -> IntArray | None:
    """Current plan labels (-1 = unassigned) or None; minimal mode requires one."""
    if current is None:
        if minimal:
            raise InputError("minimal_disruption needs the current plan (current=...)")
        return None
    labels = np.asarray(current, dtype=np.int64)
    if labels.shape != (graph.n,):
        raise InputError(f"current must have one entry per unit ({graph.n}), got {labels.shape}")
    return labels


def _locks(
    graph: UnitGraph,
    locked: Mapping[int, int] | ArrayLike | None,
    fixed_boundaries: Sequence[tuple[int, int]],
    current: IntArray | None,
    k: int,
    names: UnitNames,
) -> IntArray:
    """Explicit locks merged with the locks that keep listed boundaries fixed."""
    locks = lock_array(graph.n, dict(locked) if isinstance(locked, Mapping) else locked, k, names)
    if not fixed_boundaries:
        return locks
    if current is None:
        raise InputError("fixed_boundaries refer to the current plan; pass current=...")
    fixed = fixed_boundary_locks(graph, current, fixed_boundaries)
    clash = np.flatnonzero((locks != UNLOCKED) & (fixed != UNLOCKED) & (locks != fixed))
    if clash.size:
        unit = int(clash[0])
        raise InfeasibleError(
            f"locks conflict: unit {unit_name(names, unit)} is locked to district {int(locks[unit])} "
            f"but a fixed boundary keeps it in district {int(fixed[unit])}"
        )
    return np.where(fixed != UNLOCKED, fixed, locks)


def _fresh_start(
    graph: UnitGraph,
    households: FloatArray,
    k: int,
    rng: np.random.Generator,
    current: IntArray | None,
    locks: IntArray,
) -> IntArray:
    """METIS seed, relabelled to follow locks (first) and the current plan."""
    labels = repair_contiguity(graph, metis_seed(graph, households, k, rng), households)
    if current is not None:
        labels = match_labels(labels, current, households, k)
    if np.any(locks != UNLOCKED):
        labels = match_labels(labels, locks, households + 1e6, k)
    return labels


def _minimal_start(
    graph: UnitGraph, households: FloatArray, current: IntArray, k: int, rng: np.random.Generator
) -> IntArray:
    """The current plan with unassigned units filled, the district count adjusted to k, made contiguous."""
    labels = _fill_unassigned(graph, current)
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    labels = _adjust_count(graph, households, labels, k, rng)
    return repair_contiguity(graph, labels, households)


def _fill_unassigned(graph: UnitGraph, current: IntArray) -> IntArray:
    """Give units without a current district the district of their longest-shared neighbour."""
    labels = current.copy()
    if np.all(labels < 0):
        raise InputError("the current plan assigns no unit of this parent")
    while np.any(labels < 0):
        src, dst = graph.src, graph.indices
        edge = (labels[src] < 0) & (labels[dst] >= 0)
        order = np.lexsort((-graph.edge_length[edge], src[edge]))
        units, picks = src[edge][order], labels[dst[edge]][order]
        first = np.ones(units.shape[0], dtype=bool)
        first[1:] = units[1:] != units[:-1]
        labels[units[first]] = picks[first]
    return labels


def _adjust_count(
    graph: UnitGraph, households: FloatArray, labels: IntArray, k: int, rng: np.random.Generator
) -> IntArray:
    """Split the heaviest or merge the lightest districts until there are exactly k."""
    count = int(labels.max()) + 1
    if count < k:
        return fill_empty_districts(graph, households, labels, k, rng)
    while count > k:
        totals = np.bincount(labels, households, minlength=count)
        lightest = int(np.argmin(totals))
        neighbour = _best_neighbour_district(graph, labels, lightest)
        labels = np.where(labels == lightest, neighbour, labels)
        labels = np.where(labels > lightest, labels - 1, labels)
        count -= 1
    return labels


def _best_neighbour_district(graph: UnitGraph, labels: IntArray, district: int) -> int:
    """The district sharing the longest boundary with `district`."""
    src, dst = graph.src, graph.indices
    edge = (labels[src] == district) & (labels[dst] != district)
    shared = np.bincount(labels[dst[edge]], graph.edge_length[edge], minlength=int(labels.max()) + 1)
    return int(np.argmax(shared))


def _meets_targets(
    graph: UnitGraph,
    households: FloatArray,
    labels: IntArray,
    k: int,
    tolerance: float,
    locks: IntArray,
    band: HouseholdBand | None = None,
) -> bool:
    """True if the plan is contiguous, honours locks and every district is within tolerance (and band)."""
    totals = np.bincount(labels, households, minlength=k)
    mean = float(households.sum()) / k
    within = bool(np.all(np.abs(totals - mean) <= tolerance * mean + 1e-9))
    within = within and (band is None or band.outside(totals.astype(np.float64)).size == 0)
    locked = locks != UNLOCKED
    return bool(within and np.all(labels[locked] == locks[locked]) and is_contiguous(graph, labels))


def _result(
    graph: UnitGraph,
    households: FloatArray,
    labels: IntArray,
    k: int,
    tolerance: float,
    current: IntArray | None,
    report: AnnealReport | None,
    band: HouseholdBand | None = None,
) -> PartitionResult:
    """Package a plan with its metrics and the units too heavy for any district."""
    mean = float(households.sum()) / k
    totals = np.bincount(labels, households, minlength=k).astype(np.float64)
    if not is_contiguous(graph, labels):
        raise BoundariesError("internal error: produced a non-contiguous plan")
    return PartitionResult(
        assignment=labels.copy(),
        k=k,
        target=mean,
        district_households=totals,
        metrics=plan_metrics(graph, households, labels, k, mean, current=current),
        oversize_units=tuple(np.flatnonzero(households > mean * (1.0 + tolerance)).tolist()),
        out_of_tolerance=tuple(np.flatnonzero(np.abs(totals - mean) > tolerance * mean + 1e-9).tolist()),
        search=report,
        out_of_band=() if band is None else tuple(band.outside(totals).tolist()),
    )

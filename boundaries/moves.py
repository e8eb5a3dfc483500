"""Boundary unit flips: vectorised candidate generation and conflict-free batch application."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.live import LiveRound, UnitTables
from boundaries.score import MoveTerms, ScoreModel
from boundaries.state import PartitionState


@dataclass(frozen=True)
class Candidates:
    """Boundary flips (unit -> neighbouring district) with their score deltas at round start."""

    units: NDArray[np.int64]
    targets: NDArray[np.int64]
    delta: NDArray[np.float64]


def boundary_candidates(model: ScoreModel, state: PartitionState, movable: NDArray[np.bool_]) -> Candidates:
    """Every flip of a movable boundary unit into an adjacent district, scored in one pass."""
    labels, k = state.assignment, state.k
    dst_label = labels[model.dst]
    cut = labels[model.src] != dst_label
    on_boundary = np.zeros(labels.shape[0], dtype=bool)
    on_boundary[model.src[cut]] = True
    on_boundary &= movable
    chosen = on_boundary[model.src]
    keys, length, barrier = _edge_sums(
        model.src[chosen] * k + dst_label[chosen], model, chosen, labels.shape[0] * k
    )
    units, districts = keys // k, keys % k
    own = districts == labels[units]
    own_length, own_barrier = np.zeros(labels.shape[0]), np.zeros(labels.shape[0])
    own_length[units[own]], own_barrier[units[own]] = length[own], barrier[own]
    units, targets = units[~own], districts[~own]
    terms = MoveTerms(
        length_own=own_length[units],
        length_to=length[~own],
        barrier_own=own_barrier[units],
        barrier_to=barrier[~own],
    )
    return Candidates(units, targets, model.candidate_deltas(state, units, targets, terms))


DENSE_KEYS = 10_000
"""Up to this many (unit, district) pairs, sums go through a table of every pair rather than a
sort of the pairs present: cheaper for the small subproblems (a community's grids)."""


def _edge_sums(
    pairs: NDArray[np.int64], model: ScoreModel, chosen: NDArray[np.bool_], size: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The distinct (unit, district) pairs in order, with their edges' lengths and barrier costs
    summed (in edge order either way, so both ways give the same sums)."""
    if size > DENSE_KEYS:
        keys, inverse = np.unique(pairs, return_inverse=True)
        length = np.bincount(inverse, weights=model.edge_length[chosen])
        barrier = np.bincount(inverse, weights=model.barrier_cost[chosen])
    else:
        keys = np.flatnonzero(np.bincount(pairs, minlength=size))
        length = np.bincount(pairs, weights=model.edge_length[chosen], minlength=size)[keys]
        barrier = np.bincount(pairs, weights=model.barrier_cost[chosen], minlength=size)[keys]
    return keys.astype(np.int64, copy=False), np.asarray(length, np.float64), np.asarray(barrier, np.float64)


def apply_flips(
    model: ScoreModel,
    state: PartitionState,
    candidates: Candidates,
    order: NDArray[np.int64],
    thresholds: NDArray[np.float64],
    nbrs: Sequence[Sequence[int]],
    band: HouseholdBand | None = None,
    tables: UnitTables | None = None,
) -> int:
    """Apply flips in `order` whose exact live delta is within its threshold, keeping districts
    connected (and, with a band, never letting its violation grow). `tables` (the model's unit
    lists, boundaries.live) can be built once per search and passed to every round."""
    live = LiveRound(model, state, tables if tables is not None else UnitTables.of(model, state, nbrs))
    units, targets, limits = candidates.units.tolist(), candidates.targets.tolist(), thresholds.tolist()
    applied = 0
    for i in order.tolist():
        applied += live.try_flip(units[i], targets[i], limits[i], band)
    live.write_back()
    return applied


def metropolis_thresholds(rng: np.random.Generator, count: int, temperature: float) -> NDArray[np.float64]:
    """Per-candidate acceptance thresholds: accept a move if its delta <= -T*log(U)."""
    if temperature <= 0.0:
        # Strict improvement only, so a frozen search cannot cycle through equal-score plans.
        return np.full(count, -1e-12)
    uniform = rng.random(count)
    return -temperature * np.log(np.maximum(uniform, math.ulp(1.0)))

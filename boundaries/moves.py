"""Boundary unit flips: vectorised candidate generation and conflict-free batch application."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.constraints import removal_keeps_contiguous
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
    keys, inverse = np.unique(model.src[chosen] * k + dst_label[chosen], return_inverse=True)
    length = np.bincount(inverse, weights=model.edge_length[chosen])
    barrier = np.bincount(inverse, weights=model.barrier_cost[chosen])
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


def apply_flips(
    model: ScoreModel,
    state: PartitionState,
    candidates: Candidates,
    order: NDArray[np.int64],
    thresholds: NDArray[np.float64],
    nbrs: Sequence[Sequence[int]],
    band: HouseholdBand | None = None,
) -> int:
    """Apply flips in `order` whose exact live delta is within its threshold, keeping districts
    connected (and, with a band, never letting its violation grow)."""
    units, targets, limits = candidates.units.tolist(), candidates.targets.tolist(), thresholds.tolist()
    labels, sizes, totals = state.labels, state.district_size, state.district_households
    weights = state.unit_households
    applied = 0
    for i in order.tolist():
        unit, to = units[i], targets[i]
        source = labels[unit]
        if source == to or sizes[source] <= 1:
            continue
        if not any(labels[v] == to for v in nbrs[unit]):
            continue
        if band is not None and not band.allows(
            float(totals[source]), float(totals[to]), float(weights[unit])
        ):
            continue
        delta, d_from, d_to = model.live_delta(state, unit, to)
        if delta > limits[i] or not removal_keeps_contiguous(nbrs, labels, unit):
            continue
        state.move(unit, to, d_from, d_to)
        applied += 1
    return applied


def metropolis_thresholds(rng: np.random.Generator, count: int, temperature: float) -> NDArray[np.float64]:
    """Per-candidate acceptance thresholds: accept a move if its delta <= -T*log(U)."""
    if temperature <= 0.0:
        # Strict improvement only, so a frozen search cannot cycle through equal-score plans.
        return np.full(count, -1e-12)
    uniform = rng.random(count)
    return -temperature * np.log(np.maximum(uniform, math.ulp(1.0)))

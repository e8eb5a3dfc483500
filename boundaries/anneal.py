"""Simulated annealing driver over boundary flips, with an explicit random generator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.live import UnitTables
from boundaries.moves import apply_flips, boundary_candidates, metropolis_thresholds
from boundaries.score import ScoreModel
from boundaries.state import PartitionState


@dataclass(frozen=True)
class Schedule:
    """Cooling schedule: geometric from T0 down to T0*final_ratio, then a greedy tail."""

    rounds: int = 300
    start_scale: float = 1.0
    final_ratio: float = 1e-2
    greedy_rounds: int = 40

    @classmethod
    def for_size(cls, units: int, districts: int) -> Schedule:
        """Longer schedules for bigger districts, which need more flips to reshape."""
        rounds = int(np.clip(60.0 * np.sqrt(units / max(districts, 1)), 200, 800))
        return cls(rounds=rounds)


@dataclass(frozen=True)
class AnnealReport:
    """What the search did: rounds run, flips applied, score before and after."""

    rounds: int
    flips: int
    start_score: float
    best_score: float


def anneal(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    schedule: Schedule = Schedule(),
    band: HouseholdBand | None = None,
) -> AnnealReport:
    """Improve `state` in place and leave it at the best plan seen (with a band: only flips that
    do not let its violation grow, so every plan seen is at least as far inside it as the start)."""
    start = best = model.total(state)
    best_assignment = state.assignment.copy()
    t0 = _initial_temperature(model, state, movable) * schedule.start_scale
    flips = rounds = 0
    tables = UnitTables.of(model, state, nbrs)
    for rounds in range(1, schedule.rounds + schedule.greedy_rounds + 1):
        temperature = _temperature(schedule, t0, rounds - 1)
        applied = _one_round(model, state, movable, nbrs, rng, temperature, band, tables)
        flips += applied
        score = model.total(state)
        if score < best - 1e-12:
            best, best_assignment = score, state.assignment.copy()
        if temperature == 0.0 and applied == 0:
            break
    state.reset(best_assignment, model.district_perimeter(best_assignment, state.k))
    return AnnealReport(rounds=rounds, flips=flips, start_score=start, best_score=best)


def _one_round(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    temperature: float,
    band: HouseholdBand | None = None,
    tables: UnitTables | None = None,
) -> int:
    """Draw Metropolis thresholds for all boundary flips and apply the accepted ones, best first."""
    candidates = boundary_candidates(model, state, movable)
    if candidates.units.size == 0:
        return 0
    thresholds = metropolis_thresholds(rng, candidates.units.size, temperature)
    accepted = np.flatnonzero(candidates.delta <= thresholds)
    order = accepted[np.argsort(candidates.delta[accepted], kind="stable")]
    return apply_flips(model, state, candidates, order, thresholds, nbrs, band, tables)


def _temperature(schedule: Schedule, t0: float, round_index: int) -> float:
    """Geometric cooling, then zero for the greedy tail."""
    if round_index >= schedule.rounds or t0 <= 0.0:
        return 0.0
    return t0 * schedule.final_ratio ** (round_index / max(schedule.rounds - 1, 1))


def _initial_temperature(model: ScoreModel, state: PartitionState, movable: NDArray[np.bool_]) -> float:
    """Median uphill delta among the first candidates: scale-free across levels and units."""
    delta = boundary_candidates(model, state, movable).delta
    uphill = delta[delta > 0]
    return float(np.median(uphill)) if uphill.size else 0.0

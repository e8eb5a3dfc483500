"""A hard household band: every district keeps between `lower` and `upper` households.

The score's population term only makes households outside the tolerance expensive, so a strong
second objective (workload) can still buy a grid out of it. With a band, a move is refused when it
would let the band's violation grow: a district inside the band never leaves it, and one outside
(a seed that starts there) only moves towards it. `repair` then pulls the remaining ones in with a
score that counts nothing but the band. What still lies outside afterwards cannot be helped with
the units given; `infeasibility` says why in one line where the reason is plain arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from boundaries.score import ScoreModel, Weights
from boundaries.state import PartitionState

FloatArray = NDArray[np.float64]
SLACK = 1e-9
"""Households are whole numbers in practice; this only absorbs floating-point sums."""
REPAIR_COMPACTNESS = 1e-3
"""In repair, shape only breaks ties between moves that pull a district equally far into the band."""


@dataclass(frozen=True)
class HouseholdBand:
    """Hard bounds on the households of every district."""

    lower: float
    upper: float

    @classmethod
    def around(cls, target: float, tolerance: float) -> HouseholdBand:
        """target × (1 ± tolerance), e.g. 300 ± 15 % = 255 … 345."""
        return cls(target * (1.0 - tolerance), target * (1.0 + tolerance))

    def excess(self, totals: FloatArray) -> FloatArray:
        """Households below `lower` or above `upper`, per district (0 inside the band)."""
        return np.maximum(self.lower - totals, 0.0) + np.maximum(totals - self.upper, 0.0)

    def scalar_excess(self, total: float) -> float:
        return max(self.lower - total, 0.0) + max(total - self.upper, 0.0)

    def allows(self, source_total: float, target_total: float, weight: float) -> bool:
        """May `weight` households move from a district of `source_total` to one of `target_total`?
        Yes when the two districts' excess does not grow."""
        before = self.scalar_excess(source_total) + self.scalar_excess(target_total)
        after = self.scalar_excess(source_total - weight) + self.scalar_excess(target_total + weight)
        return after <= before + SLACK

    def outside(self, totals: FloatArray) -> NDArray[np.int64]:
        """Districts outside the band."""
        return np.flatnonzero(self.excess(totals) > SLACK).astype(np.int64)

    def counts(self, total: float) -> range:
        """The district counts whose mean lies in the band (empty when none does)."""
        fewest = max(1, math.ceil(total / self.upper - SLACK)) if self.upper > 0 else 1
        most = math.floor(total / self.lower + SLACK) if self.lower > 0 else fewest
        return range(fewest, max(most, fewest - 1) + 1)


def infeasibility(
    band: HouseholdBand, households: FloatArray, count: int, names: Sequence[str] | None = None
) -> str | None:
    """Why no plan of `count` districts over these units can keep all of them in the band, or None
    when counting alone does not rule it out (the units' shapes may still do so). `names` say what
    each unit is to the reader (default "unit <index>")."""
    total = float(households.sum())
    band_text = f"{band.lower:.0f}-{band.upper:.0f} households"
    if total < count * band.lower - SLACK or total > count * band.upper + SLACK:
        options = band.counts(total)
        hint = f"{options.start}" if len(options) == 1 else f"{options.start}-{options.stop - 1}"
        could = f" ({hint} would)" if len(options) else " (no count would)"
        districts = "district" if count == 1 else "districts"
        return f"{total:.0f} households cannot make {count} {districts} of {band_text}{could}"
    heaviest = int(np.argmax(households)) if len(households) else -1
    if heaviest >= 0 and households[heaviest] > band.upper + SLACK:
        name = f"unit {heaviest}" if names is None else names[heaviest]
        return f"{name} alone holds {households[heaviest]:.0f} households, above {band_text}"
    gap = sum_gap(households, band)
    if gap is not None:
        return f"no set of its units adds up to {band_text} (their sums jump from {gap[0]} to {gap[1]})"
    return None


def sum_gap(households: FloatArray, band: HouseholdBand, largest: int = 1 << 16) -> tuple[int, int] | None:
    """For whole-numbered households: when no subset of the units sums into the band (units of 30
    households make 270 or 300, never 272-288), the nearest sums below and above it; else None
    (also for fractional households or a band above `largest`)."""
    whole = np.round(households).astype(np.int64)
    if band.upper > largest or len(households) == 0 or np.any(np.abs(households - whole) > SLACK):
        return None
    low, high = math.ceil(band.lower - SLACK), math.floor(band.upper + SLACK)
    # a largest sum below the band plus any unit outside it is the first sum past it, so sums up
    # to low + the largest unit tell both sides
    reach = np.zeros(low + int(whole.max()) + 1, dtype=bool)
    reach[0] = True
    for weight in whole.tolist():
        if 0 < weight < reach.size:
            reach[weight:] |= reach[:-weight].copy()
    if reach[low : high + 1].any():
        return None
    later = np.flatnonzero(reach[high + 1 :])
    return int(np.flatnonzero(reach[:low]).max()), high + 1 + int(later[0]) if later.size else high + 1


def repair_model(model: ScoreModel, band: HouseholdBand) -> ScoreModel:
    """A score that counts only the band's violation (and, faintly, shape): the population term's
    steep part with the band as its tolerance and nothing inside it."""
    centre = (band.lower + band.upper) / 2.0
    half = max((band.upper - band.lower) / 2.0, SLACK)
    weights = Weights(population=0.0, compactness=model.weights.compactness * REPAIR_COMPACTNESS, barrier=0.0)
    adjacency = [[(v, length, 0.0) for v, length, _ in around] for around in model.adjacency]
    return replace(
        model,
        barrier_cost=np.zeros_like(model.barrier_cost),
        change_cost=np.zeros_like(model.change_cost),
        target=max(centre, SLACK),
        tolerance=half / max(centre, SLACK),
        weights=weights,
        adjacency=adjacency,
    )


def band_violation(state: PartitionState, band: HouseholdBand | None) -> float:
    """Total households outside the band over all districts (0 without a band)."""
    return 0.0 if band is None else float(band.excess(state.district_households).sum())

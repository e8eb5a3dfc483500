"""Workload as a second weight: grid counts that follow it, and how evenly it can be spread at best.

A parent's (community's) child count follows its workload as far as its households allow
(`workload_counts`). `spread_bounds` gives lower bounds on the busiest district's workload over
the mean that no plan can beat: a hot spot that cannot be divided, a district that must still
reach the band's household floor, a parent with too few households for more districts. When a
bound exceeds a target, the target is out of reach for the data, not for the optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.band import HouseholdBand
from boundaries.errors import InputError
from boundaries.solve import nearest_count

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

WORKLOAD_MIN_SEARCH = 0.07
"""A parent chosen by workload keeps at least this search tolerance around its own mean: tighter
bands cannot be met with pieces of up to 60 households and leave grids further off."""


def workload_counts(
    households: FloatArray,
    workload: FloatArray,
    parent: IntArray,
    parents: int,
    target: float,
    tolerance: float,
) -> tuple[dict[str, int], dict[str, float]]:
    """Children per parent (keyed by its index): round(workload / target), kept where the mean
    child stays within tolerance - WORKLOAD_MIN_SEARCH of the target (else anywhere inside the
    band, else the nearest count); and the search tolerance around that mean that keeps every
    child within `tolerance` of the target."""
    band = HouseholdBand.around(target, tolerance)
    roomy = HouseholdBand.around(target, max(tolerance - WORKLOAD_MIN_SEARCH, 0.0))
    totals = np.bincount(parent, households, minlength=parents)
    work = np.bincount(parent, workload, minlength=parents)
    counts: dict[str, int] = {}
    searches: dict[str, float] = {}
    for index in range(parents):
        total = float(totals[index])
        allowed = roomy.counts(total) or band.counts(total) or _one(nearest_count(total, target))
        count = int(np.clip(round(work[index] / target), allowed.start, allowed.stop - 1))
        mean = max(total / count, 1e-9)
        search = min((1 + tolerance) * target / mean - 1, 1 - (1 - tolerance) * target / mean)
        counts[str(index)] = count
        searches[str(index)] = float(max(search, WORKLOAD_MIN_SEARCH))
    return counts, searches


def _one(count: int) -> range:
    return range(count, count + 1)


def workload_inputs(n: int, workload: ArrayLike | None, grid_workload: ArrayLike | None, split: bool) -> (
    tuple[FloatArray, FloatArray] | None
):  # fmt: skip
    """(per unit, per grid unit) workload, or None; grid units (`split`) need their own."""
    if workload is None:
        return None
    per_unit = np.asarray(workload, dtype=np.float64)
    if per_unit.shape != (n,) or not np.isfinite(per_unit).all() or (per_unit < 0).any():
        raise InputError(f"workload needs one finite entry >= 0 per unit ({n})")
    if not split:
        return per_unit, per_unit
    if grid_workload is None:
        raise InputError("grid_units need their workload when partition_hierarchy gets one")
    return per_unit, np.asarray(grid_workload, dtype=np.float64)


@dataclass(frozen=True)
class SpreadBounds:
    """Lower bounds on (busiest district's workload) / (mean workload per district)."""

    heaviest_unit: float
    """The busiest indivisible unit alone (a market block, a school gate)."""
    band_floor: float
    """A unit plus the least work that brings its district up to the band's household floor."""
    parents: float
    """Given the parents (communities): each one's work shared by the most districts the band lets
    its households make."""

    @property
    def best(self) -> float:
        """The tightest of the three: no plan with every district in the band goes below it."""
        return max(self.heaviest_unit, self.band_floor, self.parents)

    def as_dict(self, digits: int = 4) -> dict[str, float]:
        return {
            "heaviest_unit": round(self.heaviest_unit, digits),
            "band_floor": round(self.band_floor, digits),
            "parents": round(self.parents, digits),
            "best": round(self.best, digits),
        }


def spread_bounds(
    workload: FloatArray, households: FloatArray, parent: IntArray, count: int, band: HouseholdBand
) -> SpreadBounds:
    """Lower bounds on max/mean workload over `count` districts of these units (grouped in
    `parent`s, districts never crossing a parent) with every district in `band`."""
    if count < 1 or workload.shape != households.shape or parent.shape != households.shape:
        raise InputError("spread_bounds needs one workload, household count and parent per unit, count >= 1")
    mean = float(workload.sum()) / count
    if mean <= 0:
        return SpreadBounds(1.0, 1.0, 1.0)
    per_home = workload[households > 0] / households[households > 0]
    cheapest = float(per_home.min()) if per_home.size else 0.0
    filled = workload + np.maximum(band.lower - households, 0.0) * cheapest
    parents = int(parent.max()) + 1 if parent.size else 0
    totals = np.bincount(parent, households, minlength=parents)
    work = np.bincount(parent, workload, minlength=parents)
    most = np.array([max(band.counts(float(total)).stop - 1, 1) for total in totals], dtype=np.float64)
    return SpreadBounds(
        heaviest_unit=float(workload.max()) / mean,
        band_floor=float(filled.max()) / mean,
        parents=float((work / most).max()) / mean if parents else 1.0,
    )

"""Workload as a second weight: grid counts that follow it, and how evenly it can be spread at best.

A parent's (community's) child count follows its workload as far as its households allow
(`workload_counts`). `spread_bounds` gives lower bounds on the busiest district's workload over
the mean that no plan can beat: a hot spot that cannot be divided, a district that must still
reach the band's household floor, a parent with too few households for more districts. When a
bound exceeds a target, the target is out of reach for the data, not for the optimiser.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.band import HouseholdBand
from boundaries.errors import InputError
from boundaries.score import Weights
from boundaries.solve import nearest_count

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

COUNT_ROOM = 0.02
"""Counts are offered where the mean child lies this share inside the band (`count_band`, where
the households allow one): children are drawn from whole units, and with the mean at the edge
nearly every child must sit at it. On the demo, counts leaving 1-16 households to spare in all
(3,061 households in 12 grids of 255 or more) found no split and were drawn a second time one
step towards 300 households per grid, which doubled those communities' drawing time."""
WORKLOAD_MIN_SEARCH = 0.07
"""A parent's search tolerance around its own mean never goes below this (the band holds the
households by rule; the search band only shapes the soft population term)."""


def workload_counts(
    households: FloatArray,
    workload: FloatArray,
    parent: IntArray,
    parents: int,
    target: float,
    tolerance: float,
) -> tuple[dict[str, int], dict[str, float]]:
    """Children per parent (keyed by its index) and each parent's search tolerance.

    The counts share out as many children as the households alone would make (each parent's
    count nearest its households / target, summed: the same number of grid workers) so that the
    busiest child's work is as low as it can be (`apportion`), each parent's count staying where
    its mean child lies inside the band (target × (1 ± tolerance)), with some room to spare where
    the households allow (`count_band`); a parent no count fits keeps its nearest count (the
    band's one-line reason names it). The search tolerance around each
    parent's mean keeps every child within `tolerance` of the target."""
    band = HouseholdBand.around(target, tolerance)
    totals = np.bincount(parent, households, minlength=parents).astype(np.float64)
    work = np.bincount(parent, workload, minlength=parents).astype(np.float64)
    roomy = count_band(target, tolerance)
    ranges = [
        roomy.counts(float(total)) or band.counts(float(total)) or _one(nearest_count(float(total), target))
        for total in totals
    ]
    budget = sum(nearest_count(float(total), target) for total in totals)
    chosen = apportion(work, ranges, budget)
    counts: dict[str, int] = {}
    searches: dict[str, float] = {}
    for index, count in enumerate(chosen):
        mean = max(float(totals[index]) / count, 1e-9)
        search = min((1 + tolerance) * target / mean - 1, 1 - (1 - tolerance) * target / mean)
        counts[str(index)] = count
        searches[str(index)] = float(max(search, WORKLOAD_MIN_SEARCH))
    return counts, searches


def busy_line(work: FloatArray, counts: Mapping[str, int], weights: Weights) -> float:
    """The work above which a grid is busy: the area's mean work per grid, plus the deviation the
    workload term is scaled by (Weights.workload_scale, 15 %)."""
    return float(work.sum()) / max(sum(counts.values()), 1) * (1.0 + weights.workload_scale)


def count_band(target: float, tolerance: float) -> HouseholdBand:
    """The band child counts are chosen in: target × (1 ± tolerance) narrowed by COUNT_ROOM at
    each edge (255-345 becomes 260.1-338.1: 12 grids need 3,122 households, not 3,060)."""
    band = HouseholdBand.around(target, tolerance)
    return HouseholdBand(band.lower * (1.0 + COUNT_ROOM), band.upper * (1.0 - COUNT_ROOM))


def apportion(work: FloatArray, ranges: list[range], budget: int) -> list[int]:
    """Counts within `ranges` summing to `budget` (or as near as the ranges allow) that make the
    largest work / count as small as possible: start every parent at its fewest and give each
    further child to the parent whose children carry most work (D'Hondt's rule, which is optimal
    for the largest quotient)."""
    counts = [r.start for r in ranges]
    room = [index for index, r in enumerate(ranges) if r.stop - 1 > r.start]
    heap = [(-float(work[i]) / counts[i], i) for i in room]
    heapq.heapify(heap)
    left = budget - sum(counts)
    while left > 0 and heap:
        _, index = heapq.heappop(heap)
        counts[index] += 1
        left -= 1
        if counts[index] < ranges[index].stop - 1:
            heapq.heappush(heap, (-float(work[index]) / counts[index], index))
    return counts


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
    middle: float = 0.0
    """With a middle level (communities inside fixed streets, a given number per street, each
    within a household tolerance of its street's mean): the busiest middle district holds at
    least its street's mean work, shared by at most the districts its largest allowed size makes."""

    @property
    def best(self) -> float:
        """The tightest of them: no plan with every district in the band goes below it (nor below
        1: the busiest district carries at least the mean)."""
        return max(1.0, self.heaviest_unit, self.band_floor, self.parents, self.middle)

    def as_dict(self, digits: int = 4) -> dict[str, float]:
        return {
            "heaviest_unit": round(self.heaviest_unit, digits),
            "band_floor": round(self.band_floor, digits),
            "parents": round(self.parents, digits),
            "middle": round(self.middle, digits),
            "best": round(self.best, digits),
        }


@dataclass(frozen=True)
class MiddleLevel:
    """Districts between parents and children: how many per parent, and their household tolerance
    around the parent's mean (communities of a street, ±5 %)."""

    per_parent: IntArray
    tolerance: float


def spread_bounds(
    workload: FloatArray,
    households: FloatArray,
    parent: IntArray,
    count: int,
    band: HouseholdBand,
    middle: MiddleLevel | None = None,
) -> SpreadBounds:
    """Lower bounds on max/mean workload over `count` districts of these units (grouped in
    `parent`s, districts never crossing a parent) with every district in `band` (and, with
    `middle`, grouped in middle districts of bounded size inside each parent)."""
    if count < 1 or workload.shape != households.shape or parent.shape != households.shape:
        raise InputError("spread_bounds needs one workload, household count and parent per unit, count >= 1")
    mean = float(workload.sum()) / count
    if mean <= 0:
        return SpreadBounds(1.0, 1.0, 1.0)
    per_home = workload[households > 0] / households[households > 0]
    cheapest = float(per_home.min()) if per_home.size else 0.0
    filled = workload + np.maximum(band.lower - households, 0.0) * cheapest
    parents = int(parent.max()) + 1 if parent.size else 0
    totals = np.bincount(parent, households, minlength=parents).astype(np.float64)
    work = np.bincount(parent, workload, minlength=parents).astype(np.float64)
    most = np.array([max(band.counts(float(total)).stop - 1, 1) for total in totals], dtype=np.float64)
    return SpreadBounds(
        heaviest_unit=float(workload.max()) / mean,
        band_floor=float(filled.max()) / mean,
        parents=float((work / most).max()) / mean if parents else 1.0,
        middle=0.0 if middle is None else _middle_bound(work, totals, middle, band) / mean,
    )


def _middle_bound(work: FloatArray, totals: FloatArray, middle: MiddleLevel, band: HouseholdBand) -> float:
    """Per parent: its mean work per middle district over the most children the largest middle
    district its tolerance allows can make; the largest over parents (0 without parents)."""
    per = np.maximum(np.asarray(middle.per_parent, dtype=np.float64), 1.0)[: len(work)]
    largest = (1.0 + middle.tolerance) * totals / per
    most = np.maximum(np.floor(largest / max(band.lower, 1e-9) + 1e-9), 1.0)
    return float((work / per / most).max()) if len(work) else 0.0

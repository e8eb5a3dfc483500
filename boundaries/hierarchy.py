"""Problem and result types of nested partitioning (street -> communities -> grids).

They live apart from `partition`, which drives the levels, so that the level helpers
(`level_parts`) and the unit builders (`units`) can name them without importing the driver."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.band import HouseholdBand
from boundaries.graph import UnitGraph
from boundaries.metrics import PlanMetrics
from boundaries.pendants import ChildUnits
from boundaries.score import Capacity, Weights
from boundaries.solve import PartitionResult

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class LevelOptions:
    """Targets and constraints for one level; current/locked hold global district ids per unit (-1 = none).

    Districts are balanced within `tolerance` of their parent's mean. With `nominal_tolerance`,
    a parent whose mean lies off the target searches a narrower band, so that its districts also
    stay within `nominal_tolerance` of the target: a community of 1,960 households makes 7 grids
    of 280 (-6.7 %), searched at ±3.3 % so that none falls below 270 (-10 %)."""

    target: float
    tolerance: float
    counts: Mapping[str, int] | None = None
    current: ArrayLike | None = None
    locked: ArrayLike | None = None
    nominal_tolerance: float | None = None
    count_tolerance: float | None = None
    """With a workload: each parent's count follows its workload (in household equivalents) as
    far as its households allow: every child within this share of the target (each parent's
    search tolerance around its own mean is set to keep them there)."""
    tolerances: Mapping[str, float] | None = None
    """Per-parent search tolerance, overriding `tolerance` (set with count_tolerance)."""
    band_tolerance: float | None = None
    """Every district within this share of the target as a hard rule (boundaries.band): flips and
    re-splits that would take one out are refused, where the units allow."""
    band_around_mean: bool = False
    """The band lies around each parent's own mean (households / count) instead of the target:
    communities within ±5 % of their street's mean, whatever its official count makes them."""
    weights: Weights | None = None
    """This level's score weights (None: the problem's)."""
    capacity: Capacity | None = None
    """With a workload: how many child districts a district's households allow, and the work
    each should carry (boundaries.score.Capacity). For communities it is derived from the grid
    band when there is one (`level_parts.level_capacity`), so that each community's work per
    grid its households allow is priced, not the spread of its work."""


@dataclass(frozen=True)
class GridUnits:
    """Grid-level units where heavy buildings are split: graph, households, community-level unit of each."""

    graph: UnitGraph
    households: ArrayLike
    parent: ArrayLike
    workload: ArrayLike | None = None
    """Second weight per grid unit (needed when partition_hierarchy gets a workload)."""


@dataclass(frozen=True)
class Subproblem:
    """One independent partition job (a street's communities or a community's grids)."""

    key: str
    graph: UnitGraph
    households: FloatArray
    k: int | None
    target: float
    tolerance: float
    seed: int
    current: IntArray | None = None
    locked: IntArray | None = None
    weights: Weights = DEFAULT_WEIGHTS
    minimal_disruption: bool = False
    label_ids: tuple[int, ...] = ()
    unit_ids: IntArray | None = None
    workload: FloatArray | None = None
    band: HouseholdBand | None = None
    capacity: Capacity | None = None
    children: ChildUnits | None = None
    busy_work: float | None = None
    """Work above which a district is busy: the parent is drawn again (level_parts.with_alternatives)."""


@dataclass(frozen=True)
class HierarchyResult:
    """Nested plan: community per unit, grid per grid unit, and the parent of every district."""

    community: IntArray
    community_street: list[str]
    community_metrics: PlanMetrics
    grid: IntArray
    grid_community: IntArray
    grid_metrics: PlanMetrics
    share_unchanged: float
    street_results: dict[str, PartitionResult] = field(repr=False)
    community_results: list[PartitionResult] = field(repr=False)


@dataclass(frozen=True)
class HierarchyProblem:
    """The arguments of `partition_hierarchy` for one area (say one district of a city)."""

    graph: UnitGraph
    households: ArrayLike
    streets: Sequence[str] | NDArray[np.str_]
    seed: int
    community: LevelOptions = LevelOptions(target=3000.0, tolerance=0.05)
    grid: LevelOptions = LevelOptions(target=300.0, tolerance=0.10)
    grid_units: GridUnits | None = None
    weights: Weights = DEFAULT_WEIGHTS
    minimal_disruption: bool = False
    workload: ArrayLike | None = None

"""Pair re-splits for the capacity-aware workload term: lift a busy district over its next step.

With a capacity (`boundaries.score.Capacity`) a district's work is shared by at most
⌊households / floor⌋ children: 2,965 households make at most 11 grids of 255, 3,060 make 12. The
step has no slope, so single flips see a busy district 95 households short of it as no better
off for each unit they add (and every unit brings work too). Re-drawing the busy district with a
neighbour along random spanning-tree cuts prices every cut of a tree at once, steps included, and
finds the cuts where both halves clear a step inside the band; the best one is applied when the
whole score (shape and barriers included) falls. The re-split itself is recom_work's
(`improve_pair`), priced on work per allowed child.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.recom_work import pair_passes
from boundaries.score import Capacity, ScoreModel
from boundaries.state import PartitionState

CAPACITY_TREES = 16
"""Trees per pair: alternately depth-first (long paths: any share can be cut off) and Kruskal."""
CAPACITY_PASSES = 4


def capacity_resplit(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None = None,
    passes: int = CAPACITY_PASSES,
) -> int:
    """Re-split the districts whose work per allowed child lies above the mean, busiest first,
    each with the neighbour whose pair re-split lowers the score most, pass after pass while
    any does; returns the re-splits applied (0 without a capacity floor)."""
    if model.capacity is None or not model.weights.workload or state.k < 2:
        return 0
    return pair_passes(
        model,
        state,
        movable,
        nbrs,
        rng,
        band,
        lambda: busiest(model, state),
        CAPACITY_TREES,
        passes,
        per_allowed_child=True,
    )


def busiest(model: ScoreModel, state: PartitionState) -> list[int]:
    """Districts whose work per allowed child lies above the area's mean, busiest first."""
    capacity = cast(Capacity, model.capacity)
    excess = capacity.excess(state.district_workload, state.district_households)
    busy = np.flatnonzero(excess > 0)
    return busy[np.argsort(-excess[busy], kind="stable")].tolist()

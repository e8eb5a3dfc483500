"""Pair re-splits for the capacity-aware workload term: lift a busy district over its next step.

With a capacity (`boundaries.score.Capacity`) a district's work is shared by at most
⌊households / floor⌋ children: 2,965 households make at most 11 grids of 255, 3,060 make 12. The
step has no slope, so single flips see a busy district 95 households short of it as no better
off for each unit they add (and every unit brings work too). Re-drawing the busy district with a
neighbour along random spanning-tree cuts prices every cut of a tree at once, steps included, and
finds the cuts where both halves clear a step inside the band; the best one is applied when the
whole score (shape and barriers included) falls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.band_split import random_depth_first_tree, rooted_order
from boundaries.recom import district_neighbours, induced, random_spanning_tree
from boundaries.score import Capacity, ScoreModel
from boundaries.state import PartitionState

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

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
    done = 0
    for _ in range(passes):
        applied = sum(_improve(model, state, movable, nbrs, rng, band, d) for d in busiest(model, state))
        done += applied
        if not applied:
            break
    return done


def busiest(model: ScoreModel, state: PartitionState) -> list[int]:
    """Districts whose work per allowed child lies above the area's mean, busiest first."""
    capacity = cast(Capacity, model.capacity)
    excess = capacity.excess(state.district_workload, state.district_households)
    busy = np.flatnonzero(excess > 0)
    return busy[np.argsort(-excess[busy], kind="stable")].tolist()


def _improve(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
    district: int,
) -> bool:
    """The best re-split of `district` with one neighbour, applied if the whole score falls."""
    before = model.total(state)
    best: tuple[float, IntArray] | None = None
    for other in sorted(district_neighbours(state.assignment, nbrs)[district]):
        units = np.flatnonzero((state.assignment == district) | (state.assignment == other))
        if not movable[units].all():
            continue
        inside = best_pair_cut(model, state, nbrs, rng, band, units)
        if inside is None:
            continue
        labels = state.assignment.copy()
        labels[units] = np.where(inside, district, other)
        score = _score(model, state, labels)
        if score < before - 1e-9 and (best is None or score < best[0]):
            best = (score, labels)
    if best is None:
        return False
    state.reset(best[1], model.district_perimeter(best[1], state.k))
    return True


def _score(model: ScoreModel, state: PartitionState, labels: IntArray) -> float:
    """The full score of `labels` (the state is left as it was)."""
    kept, perimeter = state.assignment.copy(), state.district_perimeter.copy()
    state.reset(labels, model.district_perimeter(labels, state.k))
    score = model.total(state)
    state.reset(kept, perimeter)
    return score


def best_pair_cut(
    model: ScoreModel,
    state: PartitionState,
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
    units: IntArray,
) -> NDArray[np.bool_] | None:
    """Over a few random trees of the merged units: the side of the cut (True = first half) with
    the lowest household and capacity-aware workload cost, both halves inside the band."""
    adjacency = induced(nbrs, units)
    households, work = state.unit_households[units], state.unit_workload[units]
    best: tuple[float, list[list[int]], int] | None = None
    for attempt in range(CAPACITY_TREES):
        tree = (
            random_depth_first_tree(adjacency, rng)
            if attempt % 2 == 0
            else random_spanning_tree(adjacency, rng)
        )
        cost = cut_costs(model, tree, households, work, band)
        node = int(np.argmin(cost))
        if np.isfinite(cost[node]) and (best is None or cost[node] < best[0]):
            best = (float(cost[node]), tree, node)
    return None if best is None else subtree_mask(best[1], best[2])


def cut_costs(
    model: ScoreModel,
    tree: list[list[int]],
    households: FloatArray,
    work: FloatArray,
    band: HouseholdBand | None,
) -> FloatArray:
    """Per node of `tree` (rooted at 0): the cost of cutting it off with its subtree (households
    and capacity-aware work of both halves; infinite for the root and for cuts leaving the band)."""
    order, parent = rooted_order(tree)
    below_h, below_w = subtree_sums(order, parent, households), subtree_sums(order, parent, work)
    rest_h, rest_w = households.sum() - below_h, work.sum() - below_w
    cost = (
        model.population_cost(below_h) + model.population_cost(rest_h)
        + model.workload_cost(below_w, below_h) + model.workload_cost(rest_w, rest_h)
    )  # fmt: skip
    cost[order[0]] = np.inf  # the root's subtree is everything: no cut
    if band is not None:
        cost[(band.excess(below_h) > 0) | (band.excess(rest_h) > 0)] = np.inf
    return cost


def subtree_sums(order: list[int], parent: list[int], values: FloatArray) -> FloatArray:
    """Each node's subtree total."""
    below = values.astype(np.float64).copy()
    for node in reversed(order[1:]):
        below[parent[node]] += below[node]
    return below


def subtree_mask(tree: list[list[int]], node: int) -> NDArray[np.bool_]:
    """The nodes of `node`'s subtree (the tree rooted at 0) as a mask."""
    order, parent = rooted_order(tree)
    inside = np.zeros(len(tree), dtype=bool)
    inside[node] = True
    for v in order:
        if v != node and parent[v] >= 0 and inside[parent[v]]:
            inside[v] = True
    return inside

"""Merge-split moves for the workload term: re-draw a busy district together with a neighbour.

Single flips stall where a busy district sits at the household band's floor: shedding a busy
unit would take it below the band, and taking a quiet unit first only adds work, so no one flip
both keeps the band and lowers the score. Merging the busy district with a neighbour and cutting
the pair again along a spanning tree exchanges busy units for quiet ones in one step. For each
pair, random spanning trees of the merged units are drawn; every edge of each tree is a
candidate cut, scored at once (vectorised) on households and work, and only cuts that keep both
halves inside the band are kept. The best cut is applied when the whole score (shape and barriers
included) falls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.band_split import random_depth_first_tree, rooted_order
from boundaries.recom import Adjacency, district_neighbours, induced, random_spanning_tree
from boundaries.score import ScoreModel
from boundaries.state import PartitionState

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

WORK_RECOM_TREES = 12
"""Trees per pair: alternately depth-first (long paths: any share can be cut off) and Kruskal."""
WORK_RECOM_PASSES = 6


def recom_workload(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None = None,
    passes: int = WORK_RECOM_PASSES,
) -> int:
    """Re-split the districts busier than the mean, each with the neighbour whose pair re-split
    lowers the score most, pass after pass while any does; returns the re-splits applied."""
    if not model.weights.workload or state.k < 2:
        return 0
    return pair_passes(
        model,
        state,
        movable,
        nbrs,
        rng,
        band,
        lambda: _busier_than_mean(model, state),
        WORK_RECOM_TREES,
        passes,
    )


def pair_passes(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
    busy: Callable[[], list[int]],
    trees: int,
    passes: int,
    per_allowed_child: bool = False,
) -> int:
    """improve_pair for each district `busy()` lists (asked again every pass), pass after pass
    while any re-split applies; returns the re-splits applied."""
    done = 0
    for _ in range(passes):
        districts = busy()
        applied = sum(
            improve_pair(model, state, movable, nbrs, rng, band, d, trees, per_allowed_child)
            for d in districts
        )
        done += applied
        if not applied:
            break
    return done


def _busier_than_mean(model: ScoreModel, state: PartitionState) -> list[int]:
    """Districts busier than the mean, busiest first."""
    busy = np.flatnonzero(state.district_workload > model.workload_target)
    return busy[np.argsort(-state.district_workload[busy], kind="stable")].tolist()


def improve_pair(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
    district: int,
    trees: int,
    per_allowed_child: bool = False,
) -> bool:
    """The best re-split of `district` with one neighbour over `trees` random trees each, applied
    if the whole score falls. `per_allowed_child`: cuts priced on work per child their households
    allow (the model's capacity, boundaries.capacity) rather than on work around the mean."""
    before = model.total(state)
    best: tuple[float, IntArray] | None = None
    for other in sorted(district_neighbours(state.assignment, nbrs)[district]):
        units = np.flatnonzero((state.assignment == district) | (state.assignment == other))
        if not movable[units].all():
            continue
        inside = _best_cut(model, state, nbrs, rng, band, units, trees, per_allowed_child)
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


def _best_cut(
    model: ScoreModel,
    state: PartitionState,
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    band: HouseholdBand | None,
    units: IntArray,
    trees: int,
    per_allowed_child: bool,
) -> NDArray[np.bool_] | None:
    """Over `trees` random trees of the merged units: the side of the cut (True = first half)
    with the lowest household and workload cost, both halves inside the band."""
    households, work = state.unit_households[units], state.unit_workload[units]
    found = cheapest_tree_cut(
        induced(nbrs, units),
        rng,
        trees,
        lambda tree: _cut_costs(model, tree, households, work, band, per_allowed_child),
    )
    return None if found is None else found[1]


def cheapest_tree_cut(
    adjacency: Adjacency,
    rng: np.random.Generator,
    trees: int,
    cut_costs: Callable[[list[list[int]]], FloatArray],
) -> tuple[float, NDArray[np.bool_]] | None:
    """Over `trees` random spanning trees (alternately depth-first, whose long paths can cut off
    any share, and Kruskal): the cheapest cut by `cut_costs` (per node of a tree rooted at 0, the
    cost of cutting its subtree off; infinite where not allowed), and that subtree as a mask;
    None when no tree has an allowed cut."""
    best: tuple[float, list[list[int]], int] | None = None
    for attempt in range(trees):
        tree = (
            random_depth_first_tree(adjacency, rng)
            if attempt % 2 == 0
            else random_spanning_tree(adjacency, rng)
        )
        cost = cut_costs(tree)
        node = int(np.argmin(cost))
        if np.isfinite(cost[node]) and (best is None or cost[node] < best[0]):
            best = (float(cost[node]), tree, node)
    return None if best is None else (best[0], _subtree(best[1], best[2]))


def _cut_costs(
    model: ScoreModel,
    tree: list[list[int]],
    households: FloatArray,
    work: FloatArray,
    band: HouseholdBand | None,
    per_allowed_child: bool,
) -> FloatArray:
    """Per node of `tree` (rooted at 0): the cost of cutting it off with its subtree (households
    and work of both halves; infinite for the root and for cuts leaving the band)."""
    order, parent = rooted_order(tree)
    below_h, below_w = subtree_sums(order, parent, households), subtree_sums(order, parent, work)
    rest_h, rest_w = households.sum() - below_h, work.sum() - below_w
    below_per, rest_per = (below_h, rest_h) if per_allowed_child else (None, None)
    cost = (
        model.population_cost(below_h) + model.population_cost(rest_h)
        + model.workload_cost(below_w, below_per) + model.workload_cost(rest_w, rest_per)
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


def _subtree(tree: list[list[int]], node: int) -> NDArray[np.bool_]:
    """The nodes of `node`'s subtree (rooted at 0) as a mask."""
    order, parent = rooted_order(tree)
    inside = np.zeros(len(tree), dtype=bool)
    inside[node] = True
    for v in order:
        if v != node and parent[v] >= 0 and inside[parent[v]]:
            inside[v] = True
    return inside

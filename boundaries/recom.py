"""ReCom-style merge-split repair: re-draw two adjacent districts along a random spanning tree cut."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from boundaries.graph import UnitGraph
from boundaries.score import ScoreModel
from boundaries.state import PartitionState

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Split:
    """A re-split of merged districts: part index per unit (0..m-1) and its population cost."""

    parts: IntArray
    cost: float


def recom_repair(
    graph: UnitGraph,
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    rng: np.random.Generator,
    *,
    trees: int = 16,
    passes: int = 3,
) -> int:
    """Re-split each out-of-tolerance district with one or two neighbours; returns the re-splits made."""
    done = 0
    for _ in range(passes):
        improved = False
        for district in _out_of_tolerance(model, state):
            if _repair_one(graph, model, state, movable, rng, district, trees):
                done += 1
                improved = True
        if not improved:
            break
    return done


def _out_of_tolerance(model: ScoreModel, state: PartitionState) -> list[int]:
    """Districts outside the tolerance, worst first."""
    dev = np.abs(state.district_households - model.target) / model.target
    bad = np.flatnonzero(dev > model.tolerance)
    return bad[np.argsort(-dev[bad], kind="stable")].tolist()


def _repair_one(
    graph: UnitGraph,
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    rng: np.random.Generator,
    district: int,
    trees: int,
) -> bool:
    """Apply the merge-split (pair or triple around `district`) that lowers the group's cost most."""
    best: tuple[float, list[int], IntArray, Split] | None = None
    for group in _groups(graph, state.assignment, district):
        units = np.flatnonzero(np.isin(state.assignment, group))
        if not movable[units].all():
            continue
        before = float(model.population_cost(state.district_households[group]).sum())
        split = best_split(graph.subgraph(units), state.unit_households[units], len(group), model, rng, trees)
        if split is not None and before - split.cost > (best[0] if best else 1e-9):
            best = (before - split.cost, group, units, split)
    if best is None:
        return False
    _, group, units, split = best
    labels = state.assignment.copy()
    labels[units] = np.asarray(group)[split.parts]
    state.reset(labels, model.district_perimeter(labels, state.k))
    return True


def _groups(graph: UnitGraph, labels: IntArray, district: int) -> list[list[int]]:
    """The district with each neighbour, then with each connected pair of neighbours-of-the-pair."""
    first = _neighbour_districts(graph, labels, district)
    groups = [[district, other] for other in first]
    seen: set[tuple[int, ...]] = set()
    for other in first:
        for third in set(first) | set(_neighbour_districts(graph, labels, other)):
            key = tuple(sorted({district, other, third}))
            if len(key) == 3 and key not in seen:
                seen.add(key)
                groups.append(list(key))
    return groups


def best_split(
    sub: UnitGraph,
    households: NDArray[np.float64],
    parts: int,
    model: ScoreModel,
    rng: np.random.Generator,
    trees: int,
) -> Split | None:
    """Best split into `parts` connected districts over `trees` random spanning-tree attempts."""
    if sub.n < parts:
        return None
    best: Split | None = None
    for _ in range(trees):
        split = _recursive_split(sub, households, parts, model, rng)
        if split is not None and (best is None or split.cost < best.cost):
            best = split
    return best


def _recursive_split(
    sub: UnitGraph, households: NDArray[np.float64], parts: int, model: ScoreModel, rng: np.random.Generator
) -> Split | None:
    """Cut one part off a random spanning tree, then split the rest the same way."""
    if parts == 1:
        cost = float(model.population_cost(np.array([households.sum()]))[0])
        return Split(parts=np.zeros(sub.n, dtype=np.int64), cost=cost)
    piece = _tree_cut(sub, households, parts, model, rng)
    rest = np.flatnonzero(~piece)
    if rest.shape[0] < parts - 1:
        return None
    inner = _recursive_split(sub.subgraph(rest), households[rest], parts - 1, model, rng)
    if inner is None:
        return None
    labels = np.zeros(sub.n, dtype=np.int64)
    labels[rest] = inner.parts + 1
    own = float(model.population_cost(np.array([households[piece].sum()]))[0])
    return Split(parts=labels, cost=own + inner.cost)


def _tree_cut(
    sub: UnitGraph, households: NDArray[np.float64], parts: int, model: ScoreModel, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Units of the subtree whose cut leaves one part nearest the target and the rest nearest (parts-1) targets."""
    tree = minimum_spanning_tree(sub.to_sparse(rng.random(sub.indices.shape[0]) + 1e-6))
    order, parent = breadth_first_order(tree, 0, directed=False, return_predecessors=True)
    below = households.copy()
    for unit in order[:0:-1].tolist():
        below[parent[unit]] += below[unit]
    total, candidates = below[order[0]], order[1:]
    rest_share = (total - below[candidates]) / (parts - 1)
    costs = model.population_cost(below[candidates]) + (parts - 1) * model.population_cost(rest_share)
    return _subtree_mask(order, parent, int(candidates[int(np.argmin(costs))]))


def _subtree_mask(order: IntArray, parent: IntArray, root: int) -> NDArray[np.bool_]:
    """Units in the BFS subtree hanging from `root`."""
    inside = np.zeros(order.shape[0], dtype=bool)
    inside[root] = True
    for unit in order.tolist():
        if unit != root and parent[unit] >= 0 and inside[parent[unit]]:
            inside[unit] = True
    return inside


def _neighbour_districts(graph: UnitGraph, labels: IntArray, district: int) -> list[int]:
    """Districts sharing a boundary with `district`."""
    src, dst = graph.src, graph.indices
    edge = (labels[src] == district) & (labels[dst] != district)
    return np.unique(labels[dst[edge]]).tolist()

"""ReCom-style merge-split repair: re-draw 2 or 3 adjacent districts along random spanning tree cuts.

Merged groups are small (tens of units), so trees are drawn with a pure-Python Kruskal on
adjacency lists; scipy's sparse machinery costs more than the work itself at this size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boundaries.band import SLACK, HouseholdBand
from boundaries.score import EXCESS_FACTOR, ScoreModel
from boundaries.state import PartitionState

IntArray = NDArray[np.int64]
Adjacency = list[list[int]]
VECTOR_CUT_NODES = 48
"""Trees above this many nodes price their cuts with numpy (the same arithmetic elementwise);
smaller ones in a loop, which costs less than numpy's calls there."""


@dataclass(frozen=True)
class Split:
    """A re-split of merged districts: part index per unit (0..m-1) and its population cost."""

    parts: list[int]
    cost: float


def recom_repair(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    *,
    trees: int = 8,
    passes: int = 4,
    band: HouseholdBand | None = None,
) -> int:
    """Re-split each out-of-tolerance district with one or two neighbours; returns the re-splits made.
    With a band, a re-split must not let the band's violation grow among the districts it redraws."""
    done = 0
    for _ in range(passes):
        improved = False
        for district in _out_of_tolerance(model, state):
            if _repair_one(model, state, movable, nbrs, rng, district, trees, band):
                done += 1
                improved = True
        if not improved:
            break
    return done


def _out_of_tolerance(model: ScoreModel, state: PartitionState) -> list[int]:
    """Districts outside the tolerance, worst first."""
    dev = np.abs(state.district_households - model.target) / model.target
    bad = np.flatnonzero(dev > model.tolerance)
    return [int(d) for d in bad[np.argsort(-dev[bad], kind="stable")]]


def _repair_one(
    model: ScoreModel,
    state: PartitionState,
    movable: NDArray[np.bool_],
    nbrs: Sequence[Sequence[int]],
    rng: np.random.Generator,
    district: int,
    trees: int,
    band: HouseholdBand | None = None,
) -> bool:
    """Apply the merge-split (pair or triple around `district`) that lowers the group's cost most."""
    best: tuple[float, list[int], IntArray, Split] | None = None
    for group in _groups(state.assignment, nbrs, district):
        units = np.flatnonzero(np.isin(state.assignment, group))
        if not movable[units].all():
            continue
        before = float(model.population_cost(state.district_households[group]).sum())
        weights = state.unit_households[units].tolist()
        split = best_split(induced(nbrs, units), weights, len(group), model, rng, trees)
        if split is not None and not _keeps_band(band, state, group, weights, split):
            continue
        if split is not None and before - split.cost > (best[0] if best else 1e-9):
            best = (before - split.cost, group, units, split)
    if best is None:
        return False
    _, group, units, split = best
    labels = state.assignment.copy()
    labels[units] = np.asarray(group)[np.asarray(split.parts)]
    state.reset(labels, model.district_perimeter(labels, state.k))
    return True


def _keeps_band(
    band: HouseholdBand | None, state: PartitionState, group: list[int], weights: list[float], split: Split
) -> bool:
    """True without a band, or when the re-split leaves the group no further outside it."""
    if band is None:
        return True
    after = np.bincount(np.asarray(split.parts), np.asarray(weights), minlength=len(group)).astype(np.float64)
    before = state.district_households[group]
    return float(band.excess(after).sum()) <= float(band.excess(before).sum()) + SLACK


def _groups(labels: IntArray, nbrs: Sequence[Sequence[int]], district: int) -> list[list[int]]:
    """The district with each neighbour, then with each pair reachable through a neighbour."""
    touching = district_neighbours(labels, nbrs)
    first = sorted(touching[district])
    groups = [[district, other] for other in first]
    seen: set[tuple[int, ...]] = set()
    for other in first:
        for third in sorted(set(first) | touching[other]):
            key = tuple(sorted({district, other, third}))
            if len(key) == 3 and key not in seen:
                seen.add(key)
                groups.append(list(key))
    return groups


def district_neighbours(labels: IntArray, nbrs: Sequence[Sequence[int]]) -> dict[int, set[int]]:
    """Districts touching each district."""
    flat = labels.tolist()
    touching: dict[int, set[int]] = {d: set() for d in set(flat)}
    for unit, around in enumerate(nbrs):
        own = flat[unit]
        for v in around:
            if flat[v] != own:
                touching[own].add(flat[v])
    return touching


def induced(nbrs: Sequence[Sequence[int]], units: IntArray) -> Adjacency:
    """Adjacency lists of the subgraph on `units`, renumbered 0..len(units)-1."""
    local = {u: i for i, u in enumerate(units.tolist())}
    return [[local[v] for v in nbrs[u] if v in local] for u in units.tolist()]


def best_split(
    adjacency: Adjacency,
    households: list[float],
    parts: int,
    model: ScoreModel,
    rng: np.random.Generator,
    trees: int,
) -> Split | None:
    """Best split into `parts` connected pieces over `trees` random spanning-tree attempts."""
    if len(adjacency) < parts:
        return None
    best: Split | None = None
    edges = tree_edges(adjacency)  # the same for every attempt
    for _ in range(trees):
        split = _recursive_split(adjacency, households, parts, model, rng, edges)
        if split is not None and (best is None or split.cost < best.cost):
            best = split
    return best


def _recursive_split(
    adjacency: Adjacency,
    households: list[float],
    parts: int,
    model: ScoreModel,
    rng: np.random.Generator,
    edges: list[tuple[int, int]] | None = None,
) -> Split | None:
    """Cut one piece off a random spanning tree, then split the rest the same way."""
    cost = model.scalar_population_cost
    if parts == 1:
        return Split(parts=[0] * len(adjacency), cost=cost(sum(households)))
    piece = _tree_cut(adjacency, households, parts, model, rng, edges)
    rest = [i for i in range(len(adjacency)) if not piece[i]]
    if len(rest) < parts - 1:
        return None
    rest_households = [households[i] for i in rest]
    if parts == 2:  # the rest is one piece: only its size and households count
        inner: Split | None = Split(parts=[0] * len(rest), cost=cost(sum(rest_households)))
    else:
        inner = _recursive_split(
            induced(adjacency, np.asarray(rest, dtype=np.int64)), rest_households, parts - 1, model, rng
        )
    if inner is None:
        return None
    labels = [0] * len(adjacency)
    for i, label in zip(rest, inner.parts, strict=True):
        labels[i] = label + 1
    own = cost(sum(h for h, inside in zip(households, piece, strict=True) if inside))
    return Split(parts=labels, cost=own + inner.cost)


def _tree_cut(
    adjacency: Adjacency,
    households: list[float],
    parts: int,
    model: ScoreModel,
    rng: np.random.Generator,
    edges: list[tuple[int, int]] | None = None,
) -> list[bool]:
    """Subtree to cut off so that it and the rest (parts-1 districts) come nearest their targets."""
    tree = random_spanning_tree(adjacency, rng, edges)
    order, parent = _preorder(tree)
    below = list(households)
    for node in reversed(order[1:]):
        below[parent[node]] += below[node]
    best_node = _best_cut(order, below, parts - 1, model)
    inside = [False] * len(adjacency)
    inside[best_node] = True
    for node in order:
        if node != best_node and parent[node] >= 0 and inside[parent[node]]:
            inside[node] = True
    return inside


def _best_cut(order: list[int], below: list[float], share: int, model: ScoreModel) -> int:
    """The first node of `order[1:]` whose subtree and the rest (`share` districts) cost least:
    min(order[1:], key=cost(below) + share * cost((total - below) / share)) with
    model.scalar_population_cost written out (this runs for every node of every tree drawn)."""
    if len(order) > VECTOR_CUT_NODES:
        nodes = np.asarray(order[1:], dtype=np.int64)
        subtrees = np.asarray(below)[nodes]
        costs = model.population_cost(subtrees) + share * model.population_cost((below[0] - subtrees) / share)
        return int(nodes[int(np.argmin(costs))])  # the first minimum, as min() takes
    total, target, scale = below[0], model.target, model.target * model.tolerance
    weight = model.weights.population
    best_node, best_value = -1, 0.0
    for node in order[1:]:
        inside = below[node]
        scaled = (inside - target) / scale
        excess = max(abs(scaled) - 1.0, 0.0)
        value = weight * scaled * scaled + EXCESS_FACTOR * excess * excess
        scaled = ((total - inside) / share - target) / scale
        excess = max(abs(scaled) - 1.0, 0.0)
        value += share * (weight * scaled * scaled + EXCESS_FACTOR * excess * excess)
        if best_node < 0 or value < best_value:
            best_node, best_value = node, value
    if best_node < 0:
        raise ValueError("min() iterable argument is empty")  # as min() said: a one-node tree
    return best_node


def tree_edges(adjacency: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Every edge once (a < b), in the order random_spanning_tree draws them from."""
    return [(a, b) for a, around in enumerate(adjacency) for b in around if a < b]


def random_spanning_tree(
    adjacency: Adjacency, rng: np.random.Generator, edges: list[tuple[int, int]] | None = None
) -> Adjacency:
    """Spanning tree from Kruskal over randomly ordered edges (union-find, written out: this is
    the repair's innermost loop). `edges` are tree_edges(adjacency), when the caller has them."""
    edges = tree_edges(adjacency) if edges is None else edges
    root = list(range(len(adjacency)))
    tree: Adjacency = [[] for _ in adjacency]
    missing = len(adjacency) - 1
    for index in rng.permutation(len(edges)).tolist():
        a, b = edges[index]
        ra, rb = a, b
        while root[ra] != ra:
            root[ra] = root[root[ra]]
            ra = root[ra]
        while root[rb] != rb:
            root[rb] = root[root[rb]]
            rb = root[rb]
        if ra != rb:
            root[ra] = rb
            tree[a].append(b)
            tree[b].append(a)
            missing -= 1
            if missing == 0:  # a spanning tree: no later edge can join two components
                break
    return tree


def _preorder(tree: Adjacency) -> tuple[list[int], list[int]]:
    """Depth-first preorder from node 0 and the parent of each node (-1 for the root)."""
    parent = [-1] * len(tree)
    order, stack, seen = [], [0], [False] * len(tree)
    seen[0] = True
    while stack:
        node = stack.pop()
        order.append(node)
        for child in tree[node]:
            if not seen[child]:
                seen[child] = True
                parent[child] = node
                stack.append(child)
    return order, parent

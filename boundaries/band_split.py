"""An exact re-split of a parent's units into k districts with every district inside a household band.

Flips and pairwise re-splits (boundaries.band, boundaries.recom) only move the band's violation
between neighbours; when a fix needs every boundary of a community to shift at once they stall.
Here the whole parent is re-split from scratch. Every split into connected districts is the cut of
some spanning tree (join a spanning tree of each district with k - 1 edges between districts), so
for a random spanning tree a dynamic programme decides *exactly* whether cutting k - 1 of its edges
can give k pieces, each within the band, and returns one such cut when it can. Over several random
trees this finds a band-feasible split wherever one is common enough to be met; when the units'
adjacency is itself a tree, the one tree is the whole search space and a failure proves that no
split exists.

The programme, per tree node v (children merged one at a time):
    table[c] = the households the piece still open at v can hold (a boolean vector over 0..upper)
               with c pieces already closed below v, each inside the band.
Keeping the edge to a child adds the two open pieces (a sum-set: a convolution of the vectors);
cutting it closes the child's open piece, allowed when it lies in the band. Households are counted
in whole units (cells); non-integral or large weights are counted in cells of upper / CELLS and
the split found is checked again in exact figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import fftconvolve

from boundaries.band import SLACK, HouseholdBand
from boundaries.recom import random_spanning_tree

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
Table = dict[int, BoolArray]

BAND_SPLIT_WORK = 400_000
"""Tree nodes the search may visit before giving up (about 3-5 s): 1,300 trees of a community of
300 units, 5,000 of a small one, where a split may be met by only one tree in a few hundred."""
MIN_TREES, MAX_TREES = 48, 5000
CELLS = 1024
"""Resolution of the household axis when households are not small whole numbers."""
FFT_FROM = 96
"""Sum-sets of two vectors both longer than this go through an FFT (an exact count of ways
rounded back to yes/no; the direct product costs the square of their lengths)."""


@dataclass(frozen=True)
class BandSplit:
    """A re-split of the units (labels 0..k-1, every district connected and inside the band), or
    None with how far the search went."""

    labels: IntArray | None
    trees: int
    """Spanning trees examined."""
    exhaustive: bool
    """The units' adjacency is a tree, so its one tree covered every possible split."""

    def why_not(self, k: int, band: HouseholdBand, units: int) -> str:
        """One line on a failed search (empty when a split was found)."""
        if self.labels is not None:
            return ""
        districts = "district" if k == 1 else "districts"
        what = f"{k} {districts} of {band.lower:.0f}-{band.upper:.0f} households"
        if self.exhaustive:
            return f"no split of its {units} units into {what} exists (a tree of units: every split checked)"
        return f"none of {self.trees} random spanning trees of its {units} units cuts into {what}"


def band_split(
    adjacency: Sequence[Sequence[int]],
    households: Sequence[float] | NDArray[np.float64],
    k: int,
    band: HouseholdBand,
    rng: np.random.Generator,
    trees: int | None = None,
    near: IntArray | None = None,
) -> BandSplit:
    """Labels 0..k-1 splitting the connected units into k connected districts, each holding
    households inside `band`, from the first of up to `trees` random spanning trees that allows one
    (default: as many as BAND_SPLIT_WORK pays for).
    With `near` (a current plan's labels), every other tree runs through each current district
    before it crosses to the next, so that splits close to that plan are among those examined."""
    weights = np.asarray(households, dtype=np.float64)
    n = len(adjacency)
    lists = [list(around) for around in adjacency]
    is_tree = sum(len(around) for around in lists) == 2 * (n - 1)
    if n < k or k < 1 or not _counts_allow(weights, k, band):
        return BandSplit(None, 0, is_tree)
    cells, low, high = _cells(weights, band)
    budget = trees if trees is not None else min(max(BAND_SPLIT_WORK // max(n, 1), MIN_TREES), MAX_TREES)
    attempts = 1 if is_tree else budget
    for attempt in range(1, attempts + 1):
        tree = lists if is_tree else _random_tree(lists, rng, attempt, near)
        labels = split_tree(tree, cells, k, low, high)
        if labels is not None and _inside(weights, labels, k, band):
            return BandSplit(labels, attempt, is_tree)
    return BandSplit(None, attempts, is_tree)


def _random_tree(
    adjacency: list[list[int]], rng: np.random.Generator, attempt: int, near: IntArray | None
) -> list[list[int]]:
    """In turn: a depth-first tree through the current districts one after another (splits near
    the current plan), a random depth-first tree (long paths: a piece of any size can be cut off
    a path) and a random Kruskal tree (bushy, reaching splits a path never passes through)."""
    kind = attempt % 3 if near is not None else 1 + attempt % 2
    if kind == 0:
        return random_depth_first_tree(adjacency, rng, near)
    return random_depth_first_tree(adjacency, rng) if kind == 1 else random_spanning_tree(adjacency, rng)


def random_depth_first_tree(
    adjacency: Sequence[Sequence[int]], rng: np.random.Generator, groups: IntArray | None = None
) -> list[list[int]]:
    """The tree of a depth-first walk from a random unit, neighbours taken in random order; with
    `groups`, neighbours in the walk's current group first (each group is walked before the
    walk leaves it, where its shape allows)."""
    n = len(adjacency)
    tree: list[list[int]] = [[] for _ in range(n)]
    start = int(rng.integers(n))
    seen = [False] * n
    seen[start] = True
    stack = [(start, iter(_order(adjacency[start], rng, groups, start)))]
    while stack:
        node, around = stack[-1]
        step = next((v for v in around if not seen[v]), None)
        if step is None:
            stack.pop()
            continue
        seen[step] = True
        tree[node].append(step)
        tree[step].append(node)
        stack.append((step, iter(_order(adjacency[step], rng, groups, step))))
    return tree


def _order(around: Sequence[int], rng: np.random.Generator, groups: IntArray | None, node: int) -> list[int]:
    shuffled: list[int] = rng.permutation(np.asarray(around, dtype=np.int64)).tolist()
    if groups is None:
        return shuffled
    own = int(groups[node])
    return sorted(shuffled, key=lambda v: int(groups[v]) != own)


def _counts_allow(weights: NDArray[np.float64], k: int, band: HouseholdBand) -> bool:
    total = float(weights.sum())
    fits = k * band.lower - SLACK <= total <= k * band.upper + SLACK
    return fits and (weights.size == 0 or float(weights.max()) <= band.upper + SLACK)


def _cells(weights: NDArray[np.float64], band: HouseholdBand) -> tuple[IntArray, int, int]:
    """Households in whole cells, and the band's bounds in cells."""
    whole = bool(np.all(np.abs(weights - np.round(weights)) <= SLACK)) and band.upper <= CELLS
    size = 1.0 if whole else max(band.upper / CELLS, SLACK)
    low = math.ceil(band.lower / size - SLACK)
    high = math.floor(band.upper / size + SLACK)
    return np.round(weights / size).astype(np.int64), low, high


def _inside(weights: NDArray[np.float64], labels: IntArray, k: int, band: HouseholdBand) -> bool:
    totals = np.bincount(labels, weights, minlength=k).astype(np.float64)
    return bool(labels.max() == k - 1 and band.outside(totals).size == 0)


def split_tree(
    tree: Sequence[Sequence[int]], cells: IntArray, k: int, low: int, high: int
) -> IntArray | None:
    """Labels 0..k-1 for the nodes of `tree` (weights `cells`) cutting it into k subtrees of
    low..high each, or None when no cut of this tree does (exact)."""
    order, parent = rooted_order(tree)
    stages: list[list[Table]] = [[] for _ in tree]
    for node in reversed(order):
        table = _single(int(cells[node]), high)
        stages[node].append(table)
        for child in _children(tree, parent, node):
            table = _merge(table, stages[child][-1], k, low, high)
            stages[node].append(table)
    top = stages[order[0]][-1].get(k - 1)
    if top is None or not top[low:].any():
        return None
    return _labels(tree, parent, stages, cells, order[0], k, low + int(np.argmax(top[low:])), low)


def rooted_order(tree: Sequence[Sequence[int]]) -> tuple[list[int], list[int]]:
    """Breadth-first order from node 0 and each node's parent (-1 for the root)."""
    parent = [-1] * len(tree)
    order, seen = [0], [False] * len(tree)
    seen[0] = True
    for node in order:
        for child in tree[node]:
            if not seen[child]:
                seen[child] = True
                parent[child] = node
                order.append(child)
    return order, parent


def _children(tree: Sequence[Sequence[int]], parent: list[int], node: int) -> list[int]:
    return [child for child in tree[node] if parent[child] == node]


def _single(weight: int, high: int) -> Table:
    """A lone node: nothing closed, its open piece holds its own households."""
    if weight > high:
        return {}
    vector = np.zeros(high + 1, dtype=bool)
    vector[weight] = True
    return {0: vector}


def _merge(table: Table, child: Table, k: int, low: int, high: int) -> Table:
    """Add one child's subtree: keep the edge (open pieces join) or cut it (the child's closes)."""
    merged: Table = {}
    for closed, vector in table.items():
        for below, child_vector in child.items():
            joined = closed + below
            if joined <= k - 1:
                _union(merged, joined, _sumset(vector, child_vector, high))
            if joined + 1 <= k - 1 and child_vector[low:].any():
                _union(merged, joined + 1, vector)
    return merged


def _union(table: Table, closed: int, vector: BoolArray | None) -> None:
    if vector is None:
        return
    table[closed] = table[closed] | vector if closed in table else vector


def _sumset(a: BoolArray, b: BoolArray, high: int) -> BoolArray | None:
    """{x + y : a[x], b[y]} up to `high` (None when empty)."""
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    offset = int(ia[0] + ib[0]) if ia.size and ib.size else high + 1
    if offset > high:
        return None
    left, right = a[ia[0] : ia[-1] + 1].astype(np.float64), b[ib[0] : ib[-1] + 1].astype(np.float64)
    direct = min(left.size, right.size) <= FFT_FROM
    sums = np.convolve(left, right) if direct else fftconvolve(left, right)
    out = np.zeros(high + 1, dtype=bool)
    width = min(sums.size, high + 1 - offset)
    out[offset : offset + width] = sums[:width] > 0.5
    return out


def _labels(
    tree: Sequence[Sequence[int]],
    parent: list[int],
    stages: list[list[Table]],
    cells: IntArray,
    root: int,
    k: int,
    weight: int,
    low: int,
) -> IntArray:
    """Walk the tables back down: which edges were cut, and each node's district."""
    labels = np.full(len(tree), -1, dtype=np.int64)
    pending = [(root, k - 1, weight, 0)]
    fresh = 1
    while pending:
        node, closed, open_weight, label = pending.pop()
        labels[node] = label
        children = _children(tree, parent, node)
        for index in range(len(children), 0, -1):
            child, before = children[index - 1], stages[node][index - 1]
            step = _undo(before, stages[children[index - 1]][-1], closed, open_weight, low)
            child_closed, child_weight, cut = step
            if cut:
                pending.append((child, child_closed, child_weight, fresh))
                fresh += 1
                closed -= child_closed + 1
            else:
                pending.append((child, child_closed, child_weight, label))
                closed -= child_closed
                open_weight -= child_weight
        assert closed == 0 and open_weight == int(cells[node]), "band split: tables out of step"
    return labels


def _undo(before: Table, child: Table, closed: int, weight: int, low: int) -> tuple[int, int, bool]:
    """One (child's closed count, child's open weight, edge cut?) that leads to (closed, weight)."""
    for below, vector in child.items():
        earlier = before.get(closed - below)
        if earlier is not None:
            both = vector[: weight + 1] & earlier[weight::-1]
            if both.any():
                child_weight = int(np.argmax(both))
                return below, child_weight, False
        earlier = before.get(closed - below - 1)
        if earlier is not None and earlier[weight] and vector[low:].any():
            return below, low + int(np.argmax(vector[low:])), True
    raise AssertionError("band split: no step leads back")

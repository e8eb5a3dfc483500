"""Lower the busiest district's work by re-cutting a parent along spanning trees, band kept.

The search moves units one at a time, or re-splits two districts at once; where the busiest
district sits among others near the household band's floor, every such move either leaves the
band or adds work somewhere. Any split into k connected districts is the cut of some spanning
tree, so for one tree an exact dynamic programme can find the cut whose busiest district is
lightest: for a cap C, keep per unit and (districts closed below it, households of the open
district holding it) the least work of that open district, every closed district inside the band
and at most C; a cut exists when the root's open district closes inside the band at most C, and
bisection on C finds the tree's best. The trees are drawn through the current plan (random inside
each district, then random between districts), so the current plan is always one of their cuts and
the busiest district never gets busier. Districts keep their labels where they overlap most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from boundaries.band import SLACK, HouseholdBand
from boundaries.recom import tree_edges

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

MINMAX_TREES = 24
"""Spanning trees drawn per parent; each is one exact search."""
MINMAX_BISECTIONS = 8
"""Halvings of the cap per tree that found a lighter cut."""
MINMAX_MAX_CELLS = 6_000_000
"""Largest units × districts × (band's upper edge) tried: two tables of that many cells are kept
(about 100 MB at the limit), and the time grows with it."""


def minmax_resplit(
    nbrs: Sequence[Sequence[int]],
    households: FloatArray,
    work: FloatArray,
    labels: IntArray,
    k: int,
    band: HouseholdBand,
    rng: np.random.Generator,
    trees: int = MINMAX_TREES,
) -> IntArray:
    """`labels` re-cut so that the busiest of the k districts carries as little work as the trees
    tried allow, every district connected and inside `band`; `labels` itself when no tree helps
    or when the units' households are not whole numbers the tables can index."""
    whole = np.round(households).astype(np.int64)
    lo, hi = math.ceil(band.lower - SLACK), math.floor(band.upper + SLACK)
    if k < 2 or not np.allclose(whole, households) or len(whole) * k * (hi + 1) > MINMAX_MAX_CELLS:
        return labels
    rows, cols = _edges(nbrs)
    best, best_max = labels.copy(), busiest_work(labels, work, k)
    floor = float(work.sum()) / k
    for _ in range(trees):
        if best_max <= floor * (1 + 1e-9):
            break
        order, parent = _tree_through(len(whole), rows, cols, best, rng)
        if len(order) != len(whole):
            return labels  # the units are not connected: nothing to cut
        cut = _lightest_cut(order, parent, whole, work, k, (lo, hi), (floor, best_max))
        if cut is not None:
            best, best_max = _keep_labels(cut, best, k), busiest_work(cut, work, k)
    return best


def _lightest_cut(
    order: IntArray,
    parent: IntArray,
    households: IntArray,
    work: FloatArray,
    k: int,
    band: tuple[int, int],
    caps: tuple[float, float],
) -> IntArray | None:
    """The tree's cut whose busiest district is lightest below caps[1] (bisection), or None."""
    low, high = caps
    found = tree_cut(order, parent, households, work, k, band, high * (1 - 1e-9))
    if found is None:
        return None
    high = busiest_work(found, work, k)
    for _ in range(MINMAX_BISECTIONS):
        cap = (low + high) / 2
        lighter = tree_cut(order, parent, households, work, k, band, cap)
        if lighter is None:
            low = cap
        else:
            found, high = lighter, busiest_work(lighter, work, k)
    return found


def tree_cut(
    order: IntArray,
    parent: IntArray,
    households: IntArray,
    work: FloatArray,
    k: int,
    band: tuple[int, int],
    cap: float,
) -> IntArray | None:
    """Labels (0..k-1) of a cut of the tree (`order`: breadth-first from the root, `parent` of
    each unit) into k districts with households inside `band` and work at most `cap`, or None.
    Households are whole numbers."""
    lo, hi = band
    if households.max(initial=0) > hi:
        return None
    children: list[list[int]] = [[] for _ in range(len(order))]
    for unit in order[1:].tolist():
        children[int(parent[unit])].append(unit)
    final: list[FloatArray] = [np.empty(0)] * len(order)
    before: list[list[FloatArray]] = [[] for _ in range(len(order))]
    for unit in order[::-1].tolist():
        table = np.full((k, hi + 1), np.inf)
        table[0, households[unit]] = work[unit]
        for child in children[unit]:
            before[unit].append(table)
            table = _merge(table, final[child], lo, cap)
        final[unit] = table
    root = int(order[0])
    last = final[root][k - 1, lo:]
    fits = np.flatnonzero(last <= cap)
    if not fits.size:
        return None
    cuts = _cuts(root, (k - 1, lo + int(fits[np.argmin(last[fits])])), children, final, before, lo, cap)
    return _components(order, parent, cuts)


def _merge(table: FloatArray, child: FloatArray, lo: int, cap: float) -> FloatArray:
    """`table` after joining a child's subtree: the edge kept (open districts join) or cut (the
    child's open district closes, inside the band and at most `cap`)."""
    k, width = table.shape
    merged = np.full((k, width), np.inf)
    small, large = (table, child) if np.isfinite(table).sum() <= np.isfinite(child).sum() else (child, table)
    for j, h in zip(*np.nonzero(np.isfinite(small)), strict=True):
        np.minimum(merged[j:, h:], large[: k - j, : width - h] + small[j, h], out=merged[j:, h:])
    for closed in np.flatnonzero(_closable(child, lo, cap)[: k - 1]).tolist():
        np.minimum(merged[closed + 1 :], table[: k - closed - 1], out=merged[closed + 1 :])
    return merged


def _closable(table: FloatArray, lo: int, cap: float) -> NDArray[np.bool_]:
    """Per count of closed districts: can the open district close (inside the band, <= cap)?"""
    return np.asarray((table[:, lo:] <= cap).any(axis=1))


def _cuts(
    root: int,
    state: tuple[int, int],
    children: list[list[int]],
    final: list[FloatArray],
    before: list[list[FloatArray]],
    lo: int,
    cap: float,
) -> set[int]:
    """The children whose edge to their parent is cut, walking the tables back from the root."""
    cuts: set[int] = set()
    stack = [(root, state)]
    while stack:
        unit, (j, h) = stack.pop()
        value = final[unit][j, h]
        for child, table in zip(reversed(children[unit]), reversed(before[unit]), strict=True):
            (j, h), child_state, cut = _undo(table, final[child], (j, h), value, lo, cap)
            if cut:
                cuts.add(child)
            stack.append((child, child_state))
            value = table[j, h]
    return cuts


def _undo(
    table: FloatArray, child: FloatArray, state: tuple[int, int], value: float, lo: int, cap: float
) -> tuple[tuple[int, int], tuple[int, int], bool]:
    """Which choice gave `value` at `state` when `child` was merged into `table`: (the state
    before, the child's state, whether the edge was cut)."""
    j, h = state
    closable = _closable(child, lo, cap)
    for closed in range(j):
        if closable[closed] and table[j - closed - 1, h] == value:
            fits = np.flatnonzero(child[closed, lo:] <= cap)
            return (j - closed - 1, h), (closed, lo + int(fits[0])), True
    for closed in range(j + 1):
        for part in np.flatnonzero(np.isfinite(child[closed, : h + 1])).tolist():
            if table[j - closed, h - part] + child[closed, part] == value:
                return (j - closed, h - part), (closed, part), False
    raise AssertionError("tree_cut: the tables do not explain their own optimum")


def _components(order: IntArray, parent: IntArray, cuts: set[int]) -> IntArray:
    """District per unit: a new district starts at the root and below every cut edge."""
    labels = np.full(len(order), -1, dtype=np.int64)
    count = 0
    for unit in order.tolist():
        if unit == order[0] or unit in cuts:
            labels[unit], count = count, count + 1
        else:
            labels[unit] = labels[parent[unit]]
    return labels


def _tree_through(
    n: int, rows: IntArray, cols: IntArray, labels: IntArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """A random spanning tree holding a spanning tree of every current district (edges inside a
    district weigh less than any between two), so the current plan is one of its cuts."""
    weights = rng.random(len(rows)) + (labels[rows] != labels[cols]) + 1e-3
    tree = minimum_spanning_tree(coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr())
    order, parent = breadth_first_order(tree + tree.T, 0, directed=False, return_predecessors=True)
    return order.astype(np.int64), parent.astype(np.int64)


def _edges(nbrs: Sequence[Sequence[int]]) -> tuple[IntArray, IntArray]:
    edges = np.asarray(tree_edges(nbrs), dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def busiest_work(labels: IntArray, work: FloatArray, k: int) -> float:
    """The work of the busiest of k districts (0 when there are none)."""
    return float(np.bincount(labels, work, minlength=k).max(initial=0.0))


def _keep_labels(cut: IntArray, labels: IntArray, k: int) -> IntArray:
    """`cut` renumbered so that each district keeps the label of the district it overlaps most."""
    overlap = np.zeros((k, k))
    np.add.at(overlap, (cut, labels), 1.0)
    new, old = linear_sum_assignment(-overlap)
    mapping = np.empty(k, dtype=np.int64)
    mapping[new] = old
    return mapping[cut]

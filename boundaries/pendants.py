"""Districts whose children cannot all keep the child band: a unit holding pendants too heavy.

A community of 2,963 households may hold a unit of 22 through which alone two towers of 174 and
176 reach the rest of it. A grid holding part of a tower but not that unit lies inside the tower,
below the grid band's floor (255); so both towers go with the unit, into one grid of 372, above
its ceiling (345): no split of that community keeps every grid in the band, whatever the count.
`stranded` finds such units (articulation points, Tarjan's depth-first search) in each district,
so that the level above can redraw the district before the grid level meets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boundaries.band import SLACK, HouseholdBand
from boundaries.graph import UnitGraph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ChildUnits:
    """The units the child level splits a parent's districts from (a grid's pieces: a tower cut
    in several), each with the parent's unit it belongs to."""

    graph: UnitGraph
    households: FloatArray
    parent: IntArray
    """Index of each child unit's unit among the parent's units."""

    @classmethod
    def of(cls, graph: UnitGraph, households: FloatArray, parent: IntArray, units: IntArray) -> ChildUnits:
        """The child units of `units` (indices into the level's units), `parent` giving each
        child unit's level unit."""
        inside = np.flatnonzero(np.isin(parent, units))
        local = np.searchsorted(units, parent[inside]).astype(np.int64)
        return cls(graph.subgraph(inside), households[inside], local)

    def stranded(self, labels: IntArray, k: int, child: HouseholdBand) -> list[int]:
        """`stranded` over the child units, for districts given per parent unit."""
        return stranded(self.graph.neighbour_lists(), self.households, labels[self.parent], k, child)


def stranded(
    nbrs: Sequence[Sequence[int]], households: FloatArray, labels: IntArray, k: int, child: HouseholdBand
) -> list[int]:
    """The districts holding a unit whose pendant parts (each below the child band's floor) must
    join its child and take it above the ceiling."""
    found = []
    for district in range(k):
        units = np.flatnonzero(labels == district)
        if units.size > 1 and _forced_load(nbrs, households, units, child.lower) > child.upper + SLACK:
            found.append(district)
    return found


def _forced_load(
    nbrs: Sequence[Sequence[int]], households: FloatArray, units: IntArray, floor: float
) -> float:
    """The largest households any unit's child must hold: the unit plus each part the unit alone
    joins to the rest when that part is too small for a child of its own."""
    local = {int(u): i for i, u in enumerate(units.tolist())}
    adjacency = [[local[v] for v in nbrs[int(u)] if v in local] for u in units.tolist()]
    weights = households[units].tolist()
    parts = _separated_parts(adjacency, weights)
    total = float(sum(weights))
    worst = 0.0
    for node, sums in enumerate(parts):
        if not sums:
            continue
        rest = total - weights[node] - sum(sums)
        small = [s for s in sums if s < floor - SLACK] + ([rest] if 0 < rest < floor - SLACK else [])
        worst = max(worst, weights[node] + sum(small))
    return worst


def _separated_parts(adjacency: list[list[int]], weights: list[float]) -> list[list[float]]:
    """Per node: the households of each depth-first subtree that only it joins to the rest (its
    children v with low[v] >= its discovery time), one connected graph from node 0."""
    n = len(adjacency)
    discovered, low, below = [-1] * n, [0] * n, list(weights)
    parts: list[list[float]] = [[] for _ in range(n)]
    discovered[0] = low[0] = 0
    clock = 1
    stack = [(0, -1, iter(adjacency[0]))]
    while stack:
        node, parent, around = stack[-1]
        step = next(around, None)
        if step is None:
            stack.pop()
            if parent >= 0:
                low[parent] = min(low[parent], low[node])
                below[parent] += below[node]
                if low[node] >= discovered[parent]:
                    parts[parent].append(below[node])
            continue
        if discovered[step] < 0:
            discovered[step] = low[step] = clock
            clock += 1
            stack.append((step, node, iter(adjacency[step])))
        elif step != parent:
            low[node] = min(low[node], discovered[step])
    # the root separates its subtrees only when it has more than one
    if len(parts[0]) < 2:
        parts[0] = []
    return parts

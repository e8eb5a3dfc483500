"""After both levels, each grid above the busy line is re-cut with a neighbour of its community.

The grid level prices work together with shape and households, one community at a time, and
shedding (boundaries.shed) then moves blocks across community borders; the finished plan can
still hold a busy grid beside a quiet one of the same community. On the demo's `both` plan at
±15 % a grid carrying 1.38 × the mean work sat beside one carrying 0.97, both near the household
floor, where no single move keeps the band. Here the two are merged and cut again along random
spanning trees of their union (every split into two connected grids is the cut of some spanning
tree; the trees are drawn without regard to the current line, alternately depth-first and
Kruskal as in boundaries.recom_work, so cuts far from it are met too). The cut whose busier half
is lightest, both halves inside the community's band, replaces the pair when that half is lighter
than the busy grid. Judged on work alone, and only where a grid is above the line: the busier
grid of a pair always gets lighter, so no grid ends busier than the busiest one re-cut, and the
households of every grid stay inside its band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand
from boundaries.band_split import rooted_order
from boundaries.recom import induced
from boundaries.recom_work import cheapest_tree_cut, subtree_sums

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

PAIR_TREES = 64
"""Spanning trees per pair. On the demo's ±15 % plan, 64 trees took the busiest grid from 1.347
to 1.318 × the mean in 7 s (serial); 200 trees reached 1.287 in 36 s."""
RECUTS_PER_GRID = 4
"""Re-cuts at most per grid of the area: each lowers the busier grid of a pair, so the search
ends anyway; this bounds its time."""


@dataclass(frozen=True)
class AreaPieces:
    """The pieces grids are made of in one area: adjacency, households and work of each."""

    nbrs: Sequence[Sequence[int]]
    households: FloatArray
    work: FloatArray


@dataclass
class _Plan:
    """A grid plan being re-cut: the grid of each piece (the caller's array, changed in place),
    each grid's pieces and work."""

    grid_of: IntArray
    members: list[set[int]]
    work: FloatArray

    @classmethod
    def of(cls, pieces: AreaPieces, grid_of: IntArray, grids: int) -> _Plan:
        members: list[set[int]] = [set() for _ in range(grids)]
        for piece, grid in enumerate(grid_of.tolist()):
            members[grid].add(piece)
        return cls(grid_of, members, np.bincount(grid_of, pieces.work, minlength=grids).astype(np.float64))

    def busiest_above(self, line: float, settled: set[int]) -> int | None:
        """The busiest grid above `line` not yet found beyond help (None when there is none)."""
        for grid in np.argsort(-self.work, kind="stable").tolist():
            if self.work[grid] <= line:
                return None
            if grid not in settled:
                return int(grid)
        return None

    def neighbours(self, pieces: AreaPieces, grid: int) -> list[int]:
        """Grids touching `grid`, in increasing order."""
        flat = self.grid_of
        return sorted({int(flat[v]) for piece in self.members[grid] for v in pieces.nbrs[piece]} - {grid})

    def assign(
        self, pieces: AreaPieces, units: IntArray, grids: tuple[int, int], first: NDArray[np.bool_]
    ) -> None:
        """Give `units` to the first grid where `first`, else to the second."""
        for unit, grid in zip(units.tolist(), np.where(first, grids[0], grids[1]).tolist(), strict=True):
            old = int(self.grid_of[unit])
            if old != grid:
                self.members[old].discard(unit)
                self.members[grid].add(unit)
                self.grid_of[unit] = grid
                self.work[old] -= pieces.work[unit]
                self.work[grid] += pieces.work[unit]


def lighten_busy_grids(
    pieces: AreaPieces,
    grid_of: IntArray,
    grid_community: IntArray,
    bands: Sequence[HouseholdBand | None],
    line: float,
    rng: np.random.Generator,
    trees: int = PAIR_TREES,
) -> int:
    """Re-cut the grids above `line` in place (`grid_of`), busiest first, each with the neighbour
    of its community (`bands` per community; none: left alone) whose pair cut leaves the busier
    half lightest, while that half is lighter than the busy grid; returns the re-cuts made."""
    plan = _Plan.of(pieces, grid_of, len(grid_community))
    settled: set[int] = set()
    made = 0
    while made < RECUTS_PER_GRID * len(grid_community):
        busy = plan.busiest_above(line, settled)
        if busy is None:
            break
        band = bands[int(grid_community[busy])]
        cut = None if band is None else _lightest_cut(pieces, plan, busy, grid_community, band, rng, trees)
        if cut is None:
            settled.add(busy)
            continue
        units, other, first = cut
        plan.assign(pieces, units, (busy, other), first)
        settled -= {busy, other, *plan.neighbours(pieces, busy), *plan.neighbours(pieces, other)}
        made += 1
    return made


def _lightest_cut(
    pieces: AreaPieces,
    plan: _Plan,
    busy: int,
    grid_community: IntArray,
    band: HouseholdBand,
    rng: np.random.Generator,
    trees: int,
) -> tuple[IntArray, int, NDArray[np.bool_]] | None:
    """(pieces of the pair, the neighbour, which of them stay with the busy grid) for the best
    pair cut with a neighbour of the same community, or None when none is lighter than `busy`."""
    best: tuple[float, IntArray, int, NDArray[np.bool_]] | None = None
    for other in plan.neighbours(pieces, busy):
        if grid_community[other] != grid_community[busy]:
            continue
        units = np.array(sorted(plan.members[busy] | plan.members[other]), dtype=np.int64)
        found = pair_cut(pieces, units, band, rng, trees)
        if found is not None and found[0] < plan.work[busy] - 1e-12 and (best is None or found[0] < best[0]):
            best = (found[0], units, other, found[1])
    if best is None:
        return None
    _, units, other, side = best
    stays = plan.grid_of[units] == busy
    return units, other, side if side[stays].sum() * 2 >= stays.sum() else ~side


def pair_cut(
    pieces: AreaPieces, units: IntArray, band: HouseholdBand, rng: np.random.Generator, trees: int
) -> tuple[float, NDArray[np.bool_]] | None:
    """The lightest busier half found over `trees` random spanning trees of `units`, both halves
    inside `band`, and one half as a mask over `units`; None when no tree has such a cut."""
    households, work = pieces.households[units], pieces.work[units]
    return cheapest_tree_cut(
        induced(pieces.nbrs, units), rng, trees, lambda tree: _busier_half(tree, households, work, band)
    )


def _busier_half(
    tree: list[list[int]], households: FloatArray, work: FloatArray, band: HouseholdBand
) -> FloatArray:
    """Per node of `tree` (rooted at 0): the work of the busier half when its subtree is cut off
    (infinite for the root and for cuts that leave either half outside the band)."""
    order, parent = rooted_order(tree)
    below_h, below_w = subtree_sums(order, parent, households), subtree_sums(order, parent, work)
    busier = np.maximum(below_w, work.sum() - below_w)
    busier[order[0]] = np.inf
    busier[(band.excess(below_h) > 0) | (band.excess(households.sum() - below_h) > 0)] = np.inf
    return busier

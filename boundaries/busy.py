"""Communities with a busy grid are drawn more than once; the draw kept is chosen after shedding.

The grid search is seeded, and a community's busiest grid differs a lot from one draw to another.
A community whose busiest grid carries more than the busy line (`Subproblem.busy_work`) comes
back with further draws (`level_parts.with_alternatives`). Which draw is best shows only once both
levels are done: blocks without households then leave busy grids across community borders
(`boundaries.shed`), which lowers a busy grid by up to a fifth of the mean on the demo, and by a
different amount for each draw. So the draws are compared on the whole area after shedding,
busiest community first: a draw is kept when it lowers the area's busiest grid, or keeps it and
leaves fewer grids above the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from boundaries.minmax_split import busiest_work
from boundaries.shed import shed_empty_blocks
from boundaries.solve import PartitionResult

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Shedding:
    """What boundaries.shed needs for one area, to score a grid plan as it will be after shedding."""

    piece_nbrs: Sequence[Sequence[int]]
    unit_nbrs: Sequence[Sequence[int]]
    households: FloatArray
    work: FloatArray
    parent: IntArray
    community_of: IntArray
    community_street: Sequence[str]

    def shed(self, grid_of: IntArray, community_of: IntArray, grid_community: IntArray) -> int:
        """boundaries.shed.shed_empty_blocks on this area, in place; the moves made."""
        return shed_empty_blocks(self.piece_nbrs, self.unit_nbrs, self.households, self.work, self.parent,
                                 grid_of, community_of, grid_community, self.community_street)  # fmt: skip

    def busy(self, grid_of: IntArray, grid_community: IntArray, line: float) -> tuple[float, int]:
        """(the busiest grid's work, grids above `line`) once blocks without households are shed."""
        grids = grid_of.copy()
        self.shed(grids, self.community_of.copy(), grid_community)
        work = np.bincount(grids, self.work, minlength=len(grid_community))
        return float(work.max(initial=0.0)), int((work > line).sum())


def choose_draws(
    results: Sequence[PartitionResult],
    units_of: Sequence[IntArray],
    grid_of: IntArray,
    grid_community: IntArray,
    shedding: Shedding,
    line: float,
) -> tuple[list[PartitionResult], IntArray]:
    """Per community, its first draw or one of its `alternatives` (same count), chosen as above,
    and the grid of every piece under the draws chosen (`grid_of` numbers the first draws' grids
    community by community, `units_of` lists each community's pieces in its draws' order)."""
    chosen = [replace(result, alternatives=()) for result in results]
    drawn = [index for index, result in enumerate(results) if result.alternatives]
    if not drawn:
        return chosen, grid_of
    offsets = np.concatenate([[0], np.cumsum([result.k for result in results])])
    plan, best = grid_of.copy(), shedding.busy(grid_of, grid_community, line)
    for index in sorted(
        drawn, key=lambda i: -busiest_work(results[i].assignment, shedding.work[units_of[i]], results[i].k)
    ):
        for other in results[index].alternatives:
            trial = plan.copy()
            trial[units_of[index]] = other.assignment + offsets[index]
            score = shedding.busy(trial, grid_community, line)
            if score < best:
                plan, best, chosen[index] = trial, score, replace(other, alternatives=())
    return chosen, plan

"""Blocks without households leave the busiest grids, across community borders too.

A block with no households (a market square, a school gate, a stretch of shops) carries cases and
patrol but no household, so moving it changes no household band. Grids nest in communities, so
the grid level cannot give such a block to a neighbouring community's grid, and a grid that
encloses one cannot shed it by a flip when its only other neighbours are busy. After both levels,
each block without households of a grid busier than the mean goes to the least busy adjacent grid
of the same street when that lowers the larger of the two, both grids (and both communities)
staying connected.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

SHED_ROUNDS = 4


def shed_empty_blocks(
    piece_nbrs: Sequence[Sequence[int]],
    unit_nbrs: Sequence[Sequence[int]],
    piece_households: FloatArray,
    piece_work: FloatArray,
    piece_parent: IntArray,
    grid_of: IntArray,
    community_of: IntArray,
    grid_community: IntArray,
    community_street: Sequence[str],
) -> int:
    """Move blocks without households out of busy grids in place (`grid_of` per piece and
    `community_of` per unit); returns the moves made."""
    pieces_of_unit = np.bincount(piece_parent, minlength=len(unit_nbrs))
    movable = np.flatnonzero((piece_households <= 0) & (pieces_of_unit[piece_parent] == 1))
    moves = 0
    for _ in range(SHED_ROUNDS):
        work = np.bincount(grid_of, piece_work, minlength=len(grid_community)).astype(np.float64)
        mean = float(work.mean()) if work.size else 0.0
        made = 0
        for piece in movable[np.argsort(-work[grid_of[movable]], kind="stable")].tolist():
            source = int(grid_of[piece])
            if work[source] <= mean or piece_work[piece] <= 0:
                continue
            target = _best_target(piece, source, piece_nbrs, grid_of, grid_community, community_street, work,
                                  float(piece_work[piece]))  # fmt: skip
            if target is None or not _may_move(piece, source, target, piece_nbrs, unit_nbrs, piece_parent,
                                               grid_of, community_of, grid_community):  # fmt: skip
                continue
            grid_of[piece] = target
            community_of[piece_parent[piece]] = grid_community[target]
            work[source] -= piece_work[piece]
            work[target] += piece_work[piece]
            made += 1
        moves += made
        if not made:
            break
    return moves


def _best_target(
    piece: int,
    source: int,
    piece_nbrs: Sequence[Sequence[int]],
    grid_of: IntArray,
    grid_community: IntArray,
    community_street: Sequence[str],
    work: FloatArray,
    weight: float,
) -> int | None:
    """The least busy adjacent grid of the same street that ends below the source's work now."""
    street = community_street[int(grid_community[source])]
    around = {int(grid_of[q]) for q in piece_nbrs[piece]} - {source}
    fits = [g for g in around if community_street[int(grid_community[g])] == street]
    best = min(fits, key=lambda g: (work[g], g), default=None)
    return best if best is not None and work[best] + weight < work[source] - 1e-9 else None


def _may_move(
    piece: int,
    source: int,
    target: int,
    piece_nbrs: Sequence[Sequence[int]],
    unit_nbrs: Sequence[Sequence[int]],
    piece_parent: IntArray,
    grid_of: IntArray,
    community_of: IntArray,
    grid_community: IntArray,
) -> bool:
    """The source grid stays connected without the piece, and so does its community without its
    unit when the move crosses a community border (the receiving side touches it by construction)."""
    if not _connected_without(piece, np.flatnonzero(grid_of == source), piece_nbrs):
        return False
    before, after = int(grid_community[source]), int(grid_community[target])
    unit = int(piece_parent[piece])
    return before == after or _connected_without(unit, np.flatnonzero(community_of == before), unit_nbrs)


def _connected_without(node: int, members: IntArray, nbrs: Sequence[Sequence[int]]) -> bool:
    """Do `members` other than `node` (at least one) form one connected set?"""
    rest = set(members.tolist()) - {node}
    if not rest:
        return False
    start = next(iter(rest))
    seen, stack = {start}, [start]
    while stack:
        for v in nbrs[stack.pop()]:
            if v in rest and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(rest)

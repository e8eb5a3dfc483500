"""Hard constraints: contiguity (fast single-move check and full check), locks, fixed boundaries."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components

from boundaries.errors import InfeasibleError, InputError
from boundaries.graph import UnitGraph

UNLOCKED = -1
UnitNames = NDArray[np.int64] | None


def unit_name(names: UnitNames, unit: int) -> int:
    """The caller's id for a local unit index (messages must name units the caller knows)."""
    return int(unit) if names is None else int(names[unit])


def removal_keeps_contiguous(
    nbrs: Sequence[Sequence[int]],
    labels: Sequence[int],
    unit: int,
    neighbour_sets: Sequence[set[int]] | None = None,
) -> bool:
    """True if the unit's district stays connected without it; BFS stops once all its neighbours
    are found. With `neighbour_sets` (nbrs as sets), neighbours that connect through each other
    alone answer at once, as they do for most units on a boundary (an arc of neighbours), and
    otherwise searches from each group of them take turns (`_searches_meet`); the answer is the
    same either way."""
    district = labels[unit]
    targets = {v for v in nbrs[unit] if labels[v] == district}
    if len(targets) <= 1:
        return True
    if neighbour_sets is not None:
        groups = _groups_among_themselves(targets, neighbour_sets)
        return len(groups) == 1 or _searches_meet(nbrs, labels, unit, groups)
    start = targets.pop()
    seen = {unit, start}
    queue = deque([start])
    while queue:
        for v in nbrs[queue.popleft()]:
            if v not in seen and labels[v] == district:
                if v in targets:
                    targets.discard(v)
                    if not targets:
                        return True
                seen.add(v)
                queue.append(v)
    return False


def _groups_among_themselves(units: set[int], neighbour_sets: Sequence[set[int]]) -> list[list[int]]:
    """The units grouped by their edges among themselves (connected groups)."""
    left, groups = set(units), []
    while left:
        group = [left.pop()]
        for node in group:  # grows while it is read: a search over the group
            joined = neighbour_sets[node] & left
            left -= joined
            group.extend(joined)
        groups.append(group)
    return groups


def _searches_meet(
    nbrs: Sequence[Sequence[int]], labels: Sequence[int], unit: int, groups: list[list[int]]
) -> bool:
    """Do the groups connect within their district without `unit`? One search per group, taking
    turns a unit at a time; searches that meet merge. Connected once one search holds every
    group; cut apart as soon as a search runs out. A cut usually leaves a small piece, whose
    search runs out long before one search from a single side would cover the district."""
    district = labels[unit]
    owner = {unit: -1}
    for index, group in enumerate(groups):
        owner.update(dict.fromkeys(group, index))
    root = list(range(len(groups)))
    queues = [deque(group) for group in groups]
    searches = len(groups)
    while True:
        for index, queue in enumerate(queues):
            if root[index] != index:
                continue
            if not queue:
                return False
            for v in nbrs[queue.popleft()]:
                if labels[v] != district:
                    continue
                other = owner.get(v)
                if other is None:
                    owner[v] = index
                    queue.append(v)
                elif other >= 0:
                    while root[other] != other:
                        other = root[other]
                    if other != index:
                        root[other] = index
                        queue.extend(queues[other])
                        searches -= 1
                        if searches == 1:
                            return True


def district_components(graph: UnitGraph, assignment: ArrayLike) -> NDArray[np.int64]:
    """Component label per unit using only edges inside a district."""
    labels = np.asarray(assignment, dtype=np.int64)
    src = graph.src
    same = labels[src] == labels[graph.indices]
    matrix = sp.csr_matrix(
        (np.ones(int(same.sum())), (src[same], graph.indices[same])), shape=(graph.n, graph.n)
    )
    return connected_components(matrix, directed=False)[1].astype(np.int64)


def is_contiguous(graph: UnitGraph, assignment: ArrayLike) -> bool:
    """True if every district is one connected set of units."""
    labels = np.asarray(assignment, dtype=np.int64)
    components = district_components(graph, labels)
    pairs = np.unique(np.stack([labels, components], axis=1), axis=0)
    return bool(pairs.shape[0] == np.unique(labels).shape[0])


def require_connected(graph: UnitGraph, unit_ids: UnitNames = None) -> None:
    """Raise InfeasibleError naming cut-off units if the unit graph is not connected."""
    count, labels = graph.components()
    if count <= 1:
        return
    ids = np.arange(graph.n) if unit_ids is None else np.asarray(unit_ids)
    sizes = np.bincount(labels)
    main = int(np.argmax(sizes))
    stray = ids[labels != main][:5].tolist()
    raise InfeasibleError(
        f"unit graph is disconnected: {count} components; units {stray} "
        f"are cut off from unit {int(ids[labels == main][0])}"
    )


def lock_array(
    n: int, locked: dict[int, int] | ArrayLike | None, k: int, names: UnitNames = None
) -> NDArray[np.int64]:
    """Normalise locks (unit -> district, or an array with -1 for free) and check labels."""
    if locked is None:
        return np.full(n, UNLOCKED, dtype=np.int64)
    if isinstance(locked, dict):
        out = np.full(n, UNLOCKED, dtype=np.int64)
        for unit, district in locked.items():
            if not 0 <= unit < n:
                raise InputError(f"locked unit {unit} is not a unit of this parent (0..{n - 1})")
            out[unit] = district
    else:
        out = np.asarray(locked, dtype=np.int64).copy()
        if out.shape != (n,):
            raise InputError(f"locked must have one entry per unit ({n}), got {out.shape}")
    bad = np.flatnonzero((out != UNLOCKED) & ((out < 0) | (out >= k)))
    if bad.size:
        raise InfeasibleError(
            f"unit {unit_name(names, int(bad[0]))} is locked to district {int(out[bad[0]])}, "
            f"but only 0..{k - 1} exist"
        )
    return out


def check_locks(
    graph: UnitGraph,
    households: NDArray[np.float64],
    locks: NDArray[np.int64],
    upper: float,
    names: UnitNames = None,
) -> None:
    """Fail fast on locks that cannot hold: overweight districts, groups walled off by other locks."""
    for district in np.unique(locks[locks != UNLOCKED]).tolist():
        members = np.flatnonzero(locks == district)
        total = float(households[members].sum())
        if total > upper:
            raise InfeasibleError(
                f"units {[unit_name(names, u) for u in members[:5]]} locked to district {district} "
                f"hold {total:.0f} "
                f"households, above the upper bound {upper:.0f}"
            )
        _check_lock_reachability(graph, locks, district, members, names)


def _check_lock_reachability(
    graph: UnitGraph, locks: NDArray[np.int64], district: int, members: NDArray[np.int64], names: UnitNames
) -> None:
    """Locked units of one district must connect without passing units locked elsewhere."""
    allowed = (locks == UNLOCKED) | (locks == district)
    sub = graph.subgraph(np.flatnonzero(allowed))
    local = np.cumsum(allowed) - 1
    labels = sub.components()[1][local[members]]
    if np.unique(labels).shape[0] > 1:
        split = members[labels != labels[0]][0]
        raise InfeasibleError(
            f"locks conflict: unit {unit_name(names, members[0])} and unit {unit_name(names, split)} "
            "are locked to district "
            f"{district} but units locked to other districts separate them"
        )


def fixed_boundary_locks(
    graph: UnitGraph, current: NDArray[np.int64], pairs: Sequence[tuple[int, int]]
) -> NDArray[np.int64]:
    """Locks that keep the current boundary between each listed district pair where it is."""
    locks = np.full(graph.n, UNLOCKED, dtype=np.int64)
    src, dst = graph.src, graph.indices
    for first, second in pairs:
        on_edge = (current[src] == first) & (current[dst] == second)
        touching = np.concatenate([src[on_edge], dst[on_edge]])
        if touching.size == 0:
            raise InfeasibleError(f"fixed boundary {first}-{second}: the districts do not touch")
        locks[touching] = current[touching]
    return locks

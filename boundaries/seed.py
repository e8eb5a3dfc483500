"""Initial partitions: METIS k-way (pymetis) with unit weights, then contiguity repair and label matching."""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pymetis
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from boundaries.constraints import UNLOCKED, UnitNames, district_components, unit_name
from boundaries.errors import InfeasibleError
from boundaries.graph import UnitGraph

IntArray = NDArray[np.int64]
MAX_REPAIR_PASSES = 60


def metis_seed(
    graph: UnitGraph,
    households: NDArray[np.float64],
    k: int,
    rng: np.random.Generator,
    *,
    barrier_discount: float = 0.3,
    ufactor: int = 30,
) -> IntArray:
    """METIS k-way partition weighted by households; cheap barrier edges pull boundaries onto barriers."""
    if k == 1:
        return np.zeros(graph.n, dtype=np.int64)
    scale = np.where(graph.edge_barrier, barrier_discount, 1.0)
    typical = float(np.median(graph.edge_length)) or 1.0
    eweights = np.maximum(np.round(graph.edge_length / typical * 100 * scale), 1).astype(np.int64)
    options = pymetis.Options(contig=1, ufactor=ufactor, seed=int(rng.integers(2**31 - 1)))
    with _quiet_stdout():
        _, parts = pymetis.part_graph(
            k,
            pymetis.CSRAdjacency(graph.indptr, graph.indices),
            vweights=np.round(households).astype(np.int64),
            eweights=eweights,
            options=options,
        )
    labels = np.asarray(parts, dtype=np.int64)
    return fill_empty_districts(graph, households, labels, k, rng)


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence METIS's own printf lines ("too many parts") while it runs.

    METIS prints them when one unit outweighs a part; its answer may then leave parts empty or
    split, which fill_empty_districts and repair_contiguity fix, so the lines would only confuse
    a planner reading `wangge redistrict`."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def fill_empty_districts(
    graph: UnitGraph,
    households: NDArray[np.float64],
    labels: IntArray,
    k: int,
    rng: np.random.Generator,
) -> IntArray:
    """Give every empty label part of the heaviest district (METIS may leave parts empty)."""
    labels = labels.copy()
    for empty in range(k):
        if np.any(labels == empty):
            continue
        sizes = np.bincount(labels, minlength=k)
        totals = np.bincount(labels, households, minlength=k) + sizes * 1e-9
        heaviest = int(np.argmax(np.where(sizes > 1, totals, -1.0)))
        members = np.flatnonzero(labels == heaviest)
        if members.size < 2:
            raise InfeasibleError(f"cannot form {k} districts from {graph.n} units")
        labels[_bfs_half(graph, members, households)] = empty
    return labels


def _bfs_half(graph: UnitGraph, members: IntArray, households: NDArray[np.float64]) -> IntArray:
    """A connected BFS prefix of `members` holding about half their households (or half the units)."""
    inside = set(members.tolist())
    start = int(members[np.argmin(graph.x[members])])
    weight = households if households[members].sum() > 0 else np.ones_like(households)
    half = float(weight[members].sum()) / 2.0
    taken: list[int] = []
    total, queue, seen = 0.0, deque([start]), {start}
    while queue and total < half and len(taken) < members.size - 1:
        unit = queue.popleft()
        taken.append(unit)
        total += float(weight[unit])
        for v in graph.neighbours(unit).tolist():
            if v in inside and v not in seen:
                seen.add(v)
                queue.append(v)
    return np.asarray(taken, dtype=np.int64)


def match_labels(labels: IntArray, reference: IntArray, weights: NDArray[np.float64], k: int) -> IntArray:
    """Relabel districts to overlap `reference` (labels, -1 = none) as much as possible by weight."""
    known = reference >= 0
    if not np.any(known):
        return labels
    overlap = np.zeros((k, max(k, int(reference.max()) + 1)))
    np.add.at(overlap, (labels[known], reference[known]), weights[known] + 1e-6)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    mapping = np.arange(k, dtype=np.int64)
    free = sorted(set(range(k)) - set(cols[cols < k].tolist()))
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        mapping[row] = col if col < k else free.pop()
    return mapping[labels]


def apply_locks(
    graph: UnitGraph,
    labels: IntArray,
    locks: IntArray,
    households: NDArray[np.float64],
    names: UnitNames = None,
) -> IntArray:
    """Force locked units into their districts, then restore contiguity around them."""
    labels = labels.copy()
    locked = locks != UNLOCKED
    labels[locked] = locks[locked]
    return repair_contiguity(graph, labels, households, locks, names)


def repair_contiguity(
    graph: UnitGraph,
    labels: IntArray,
    households: NDArray[np.float64],
    locks: IntArray | None = None,
    names: UnitNames = None,
) -> IntArray:
    """Hand each stray piece of a district to the neighbour it shares most boundary with."""
    locks = np.full(graph.n, UNLOCKED, dtype=np.int64) if locks is None else locks
    labels = labels.copy()
    for _ in range(MAX_REPAIR_PASSES):
        components = district_components(graph, labels)
        stray = _stray_components(labels, components, households, locks)
        if not stray.any():
            return labels
        if not _connect_locked_strays(graph, labels, components, stray, locks, names):
            _absorb_strays(graph, labels, components, stray)
    raise InfeasibleError("could not make every district contiguous (check locks and the unit graph)")


def _stray_components(
    labels: IntArray, components: IntArray, households: NDArray[np.float64], locks: IntArray
) -> NDArray[np.bool_]:
    """Units outside their district's main component (most locked units, then most households)."""
    count = int(components.max()) + 1
    locked_in = np.bincount(components, (locks != UNLOCKED).astype(float), minlength=count)
    weight = np.bincount(components, households + 1e-3, minlength=count)
    merit = locked_in * 1e12 + weight
    district_of = np.zeros(count, dtype=np.int64)
    district_of[components] = labels
    order = np.lexsort((-merit, district_of))
    first = np.ones(count, dtype=bool)
    first[1:] = district_of[order][1:] != district_of[order][:-1]
    main = np.zeros(count, dtype=bool)
    main[order[first]] = True
    return ~main[components]


def _absorb_strays(
    graph: UnitGraph, labels: IntArray, components: IntArray, stray: NDArray[np.bool_]
) -> None:
    """Relabel each stray component to the neighbouring district it shares most boundary with."""
    src, dst = graph.src, graph.indices
    leaving = stray[src] & (components[src] != components[dst])
    # Prefer joining a district's main piece over another stray piece.
    weight = graph.edge_length[leaving] * np.where(stray[dst[leaving]], 1e-3, 1.0)
    span = int(labels.max()) + 1
    keys, inverse = np.unique(components[src[leaving]] * span + labels[dst[leaving]], return_inverse=True)
    totals = np.bincount(inverse, weights=weight)
    comp, target = keys // span, keys % span
    order = np.lexsort((-totals, comp))
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = comp[order][1:] != comp[order][:-1]
    mapping = np.full(int(components.max()) + 1, -1, dtype=np.int64)
    mapping[comp[order][first]] = target[order][first]
    change = stray & (mapping[components] >= 0)
    labels[change] = mapping[components[change]]


def _connect_locked_strays(
    graph: UnitGraph,
    labels: IntArray,
    components: IntArray,
    stray: NDArray[np.bool_],
    locks: IntArray,
    names: UnitNames,
) -> bool:
    """Join a stray piece holding locked units to its district by the shortest unlocked path."""
    stuck = np.flatnonzero(stray & (locks != UNLOCKED))
    if stuck.size == 0:
        return False
    start = int(stuck[0])
    district = int(labels[start])
    main = (labels == district) & ~stray
    path = _shortest_path(graph, start, main, (locks == UNLOCKED) | (locks == district))
    if path is None:
        raise InfeasibleError(
            f"locks conflict: unit {unit_name(names, start)} is locked to district {district} "
            "but cannot be joined to the rest of that district"
        )
    labels[path] = district
    labels[components == components[start]] = district
    return True


def _shortest_path(
    graph: UnitGraph, start: int, goal: NDArray[np.bool_], passable: NDArray[np.bool_]
) -> list[int] | None:
    """BFS path of passable units from `start` to any goal unit (both ends excluded)."""
    parent = {start: start}
    queue = deque([start])
    while queue:
        unit = queue.popleft()
        for v in graph.neighbours(unit).tolist():
            if v in parent:
                continue
            parent[v] = unit
            if goal[v]:
                path = []
                while parent[v] != start:
                    v = parent[v]
                    path.append(v)
                return path
            if passable[v]:
                queue.append(v)
    return None

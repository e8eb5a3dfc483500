"""Patrol effort: walking metres to pass every building of an area, over the road network.

Method (documented in the README, "Workload-aware grids"):
1. Every building (a point inside its footprint) is snapped to the district's road graph, the
   same graph and snapping dispatch uses (gis_api.routing.engine).
2. Candidate legs between buildings are the edges of their Delaunay triangulation (a connected,
   sparse graph that contains the Euclidean minimum spanning tree). A leg costs the walking metres
   over the road network (walk to the road, along it ignoring one-way rules, to the other
   building); where two buildings are closer than `shortcut_m`, the walker may instead take the
   lanes inside the block at `circuity` × the straight line. Buildings the network cannot join
   (another component) are joined at `circuity` × the straight line, and so is every leg of a
   district without a road network.
3. The minimum spanning tree over these legs is the cheapest network that reaches every building;
   walking a tree and coming back costs twice its length (the classic tour bound), so a patrol tour
   of a set of buildings is estimated as 2 × the tree length.
4. Each tree leg is split half and half between its two buildings. That makes the effort additive:
   a grid's tour is the sum of its buildings' shares, so the optimiser can move buildings between
   grids and keep totals in step. Legs across a grid boundary count half in each grid.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError

from gis_api.routing.engine import RoadGraph
from gis_api.workload.weights import PatrolWeights

NETWORK_LIMIT_M = 5000.0
"""Road searches stop here; longer legs never enter a tree over a district's buildings."""
SOURCE_CHUNK = 256
MIN_LEG_M = 1e-3
"""scipy reads a stored 0 as "no edge": buildings at one point are joined by a millimetre."""


def candidate_legs(xy: NDArray[np.float64]) -> NDArray[np.intp]:
    """(i, j) pairs, i < j: Delaunay edges, or every pair for fewer than four or collinear points."""
    n = len(xy)
    if n < 2:
        return np.zeros((0, 2), dtype=np.intp)
    try:
        if n < 4:
            raise QhullError("too few points")
        simplices = Delaunay(xy, qhull_options="QJ Qbb Qc").simplices
        pairs = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    except (QhullError, ValueError):
        i, j = np.triu_indices(n, k=1)
        pairs = np.column_stack([i, j])
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0).astype(np.intp)


def walking_graph(graph: RoadGraph) -> csr_matrix:
    """Undirected node graph weighted by length in metres (walkers ignore one-way rules); of
    parallel edges the shortest counts."""
    n = graph.node_count
    a, b = graph.edge_nodes[:, 0], graph.edge_nodes[:, 1]
    length = np.maximum(graph.length_m, MIN_LEG_M)
    rows, cols, data = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([length, length])
    keep = rows != cols
    rows, cols, data = rows[keep], cols[keep], data[keep]
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return coo_matrix((data[first], (rows[first], cols[first])), shape=(n, n)).tocsr()


def node_distances(
    walking: csr_matrix, sources: NDArray[np.intp], targets: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Walking metres from sources[k] to targets[k] (inf beyond NETWORK_LIMIT_M), in source chunks."""
    result = np.full(len(sources), np.inf)
    unique = np.unique(sources)
    for start in range(0, len(unique), SOURCE_CHUNK):
        chunk = unique[start : start + SOURCE_CHUNK]
        table = np.atleast_2d(dijkstra(walking, directed=False, indices=chunk, limit=NETWORK_LIMIT_M))
        rows = np.searchsorted(chunk, sources)
        inside = (rows < len(chunk)) & (chunk[np.minimum(rows, len(chunk) - 1)] == sources)
        result[inside] = table[rows[inside], targets[inside]]
    return result


def leg_metres(
    graph: RoadGraph, lonlat: NDArray[np.float64], legs: NDArray[np.intp], weights: PatrolWeights
) -> NDArray[np.float64]:
    """Walking metres of each candidate leg (see the module docstring, step 2); a district without
    a road network is walked at `circuity` × the straight line throughout."""
    if graph.is_empty:
        xy = np.column_stack(graph.to_metric.transform(lonlat[:, 0], lonlat[:, 1]))
        return np.asarray(weights.circuity * np.hypot(*(xy[legs[:, 0]] - xy[legs[:, 1]]).T), dtype=np.float64)
    snaps = graph.snap(lonlat)
    xy = snaps.xy
    i, j = legs[:, 0], legs[:, 1]
    straight = np.hypot(*(xy[i] - xy[j]).T)
    length = graph.length_m[snaps.edge]
    ends = graph.edge_nodes[snaps.edge]  # (n, 2): source and target node of each building's edge
    along = np.column_stack([snaps.fraction * length, (1 - snaps.fraction) * length])
    walking = walking_graph(graph)
    road = np.full(len(legs), np.inf)
    for a in (0, 1):
        for b in (0, 1):
            between = node_distances(walking, ends[i, a], ends[j, b])
            road = np.minimum(road, along[i, a] + between + along[j, b])
    same_edge = snaps.edge[i] == snaps.edge[j]
    direct = np.abs(snaps.fraction[i] - snaps.fraction[j]) * length[i]
    road[same_edge] = np.minimum(road[same_edge], direct[same_edge])
    road = road + snaps.offset_m[i] + snaps.offset_m[j]
    lanes = weights.circuity * straight
    shortcut = (straight <= weights.shortcut_m) | ~np.isfinite(road)
    return np.where(shortcut, np.minimum(road, lanes), road)


def tree_shares(count: int, legs: NDArray[np.intp], metres: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each point's half of the minimum spanning tree legs it touches (metres; sums to the tree)."""
    if count < 2 or len(legs) == 0:
        return np.zeros(count)
    matrix = coo_matrix((np.maximum(metres, MIN_LEG_M), (legs[:, 0], legs[:, 1])), shape=(count, count))
    tree = minimum_spanning_tree(matrix.tocsr()).tocoo()
    half = tree.data / 2.0
    shares = np.bincount(tree.row, half, minlength=count) + np.bincount(tree.col, half, minlength=count)
    return np.asarray(shares, dtype=np.float64)


def patrol_shares_m(
    graph: RoadGraph, lonlat: NDArray[np.float64], weights: PatrolWeights
) -> NDArray[np.float64]:
    """Tree metres per building: a set's patrol tour is 2 × the sum of its buildings' shares."""
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if len(lonlat) < 2:
        return np.zeros(len(lonlat))
    xy = np.column_stack(graph.to_metric.transform(lonlat[:, 0], lonlat[:, 1]))
    legs = candidate_legs(xy)
    return tree_shares(len(lonlat), legs, leg_metres(graph, lonlat, legs, weights))


def tour_hours(share_m: float | NDArray[np.float64], weights: PatrolWeights) -> NDArray[np.float64]:
    """Hours of one patrol tour over buildings with these summed shares (out and back: × 2)."""
    return np.asarray(share_m, dtype=float) * 2.0 / weights.walk_speed_mps / 3600.0

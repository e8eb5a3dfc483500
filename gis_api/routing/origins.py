"""Road ETAs from a few origins to many destinations at once (replaying a year of cases).

Dispatch asks "who reaches THIS incident first" and searches backwards from the incident
(engine.IncidentSearch). A replay asks the opposite, many times: "how long from the grid worker's
home grid to each of this grid's cases". One forward Dijkstra per origin, over the same graph,
snapping and door-to-door rules as dispatch (walk to the road, drive, walk to the case), so both
agree on every ETA; the forward graph is the transpose of the engine's reversed graph.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis_api.routing.engine import ACCESS_SPEED_MPS, DEFAULT_LIMIT_S, RoadGraph, Snaps

ORIGIN_CHUNK = 512
"""Origins' end nodes searched per dijkstra call (rows × nodes floats kept at once)."""


def forward_matrix(graph: RoadGraph) -> csr_matrix:
    """The road graph in travel direction (row = from node), fastest of parallel arcs."""
    n = graph.node_count
    reverse = csr_matrix((graph.weights[:-2], graph.indices[:-2], graph.indptr[:-1]), shape=(n, n))
    return csr_matrix(reverse.T)


def etas(
    graph: RoadGraph,
    origins: NDArray[np.float64],
    destinations: NDArray[np.float64],
    origin_of: NDArray[np.intp],
    limit_s: float = DEFAULT_LIMIT_S,
) -> NDArray[np.float64]:
    """Door-to-door seconds from origins[origin_of[k]] to destinations[k] (lon/lat rows); inf when
    unreachable within `limit_s`."""
    result = np.full(len(destinations), np.inf)
    if len(destinations) == 0 or graph.is_empty:
        return result
    start, goal = graph.snap(origins), graph.snap(destinations)
    forward = forward_matrix(graph)
    used = np.unique(origin_of)
    for begin in range(0, len(used), ORIGIN_CHUNK):
        chunk = used[begin : begin + ORIGIN_CHUNK]
        ends = graph.edge_nodes[start.edge[chunk]]  # (m, 2) source, target of each origin's edge
        table = dijkstra(forward, indices=ends.ravel(), limit=limit_s).reshape(len(chunk), 2, -1)
        for row, origin in enumerate(chunk):
            mine = np.flatnonzero(origin_of == origin)
            nodes = _node_times(graph, start, int(origin), table[row])
            result[mine] = _to_destinations(graph, start, int(origin), goal, mine, nodes)
    return result


def _node_times(
    graph: RoadGraph, start: Snaps, origin: int, table: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Seconds from the origin's snapped point to every node: leave along its edge either way."""
    edge, fraction = int(start.edge[origin]), float(start.fraction[origin])
    time_s = graph.travel_time_s[edge]
    ahead = table[1] + (1 - fraction) * time_s  # drive on to the edge's target
    back = table[0] + fraction * time_s if graph.two_way[edge] else np.full(table.shape[1], np.inf)
    return np.asarray(np.minimum(ahead, back), dtype=np.float64)


def _to_destinations(
    graph: RoadGraph,
    start: Snaps,
    origin: int,
    goal: Snaps,
    mine: NDArray[np.intp],
    nodes: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Seconds to each destination: reach its edge's source (or target, two-way), drive to the point."""
    edge, fraction = goal.edge[mine], goal.fraction[mine]
    time_s = graph.travel_time_s[edge]
    via_source = nodes[graph.edge_nodes[edge, 0]] + fraction * time_s
    via_target = np.where(
        graph.two_way[edge], nodes[graph.edge_nodes[edge, 1]] + (1 - fraction) * time_s, np.inf
    )
    ahead = fraction - start.fraction[origin]
    same = edge == start.edge[origin]
    direct = np.where(ahead >= 0, ahead * time_s, np.where(graph.two_way[edge], -ahead * time_s, np.inf))
    road = np.minimum(np.minimum(via_source, via_target), np.where(same, direct, np.inf))
    walk = (start.offset_m[origin] + goal.offset_m[mine]) / ACCESS_SPEED_MPS
    return np.asarray(road + walk, dtype=np.float64)

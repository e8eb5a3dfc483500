"""Shortest-path peers for bench/dispatch.py, each doing exactly what our ranking kernel does.

Our kernel (gis_api.routing.engine): snap the incident to its road edge, ONE reverse Dijkstra from
a virtual node on that edge (scipy.sparse.csgraph, limit 3 h), then each candidate's door-to-door
ETA from its own edge snap (cached per member; re-snapped when the member moved) and a sort.

A peer replaces only the reverse search, with its library's documented way of doing one
single-source search, on the same directed road graph; snapping, the candidates' edge arithmetic
and the sort are the same code, so the comparison measures the engines and nothing else:

  networkx  single_source_dijkstra_path_length(reversed graph, virtual incident node, cutoff=3 h,
            weight="t") on a DiGraph built once (the documented one-to-all call; a weight attribute
            name is its fast path). The virtual node is added and removed per query (O(1)).
  igraph    Graph.distances(source=[edge source, edge target], mode="in", weights=...): igraph has
            no per-source offsets nor a cheap temporary vertex (adding one rebuilds its edge
            index), so both ends of the incident's edge are searched in one call and the partial
            edge times added after; see `IgraphPeer` for the measured alternative.

pgRouting's pgr_withPointsCost is the in-database peer and the independent check of our ETAs
(`pgrouting`). Also here: the city-sized synthetic street lattice (>= 100k nodes) where the choice
of algorithm starts to matter, and a naive networkx variant (one shortest-path query per candidate).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from gis_api.routing.engine import (
    ACCESS_SPEED_MPS,
    DEFAULT_LIMIT_S,
    PGR_EDGES_SQL,
    IncidentSearch,
    RoadGraph,
    Snaps,
)

Distances = Callable[[Snaps], NDArray[np.float64]]
MOVING_SHARE = 0.10
"""Share of the team that moves (a GPS ping) before each ranking, so their snaps are redone."""
PING_STEP_M = 40.0
POINTS_SQL = """
INSERT INTO bench_points
SELECT p, e, f, 'b'
FROM unnest(CAST(:p AS bigint[]), CAST(:e AS bigint[]), CAST(:f AS float8[])) AS t(p, e, f)
"""
PGR_SQL = """
SELECT start_pid, agg_cost FROM pgr_withPointsCost(
    :edges, 'SELECT pid, edge_id, fraction, side FROM bench_points', CAST(:starts AS bigint[]), :goal,
    directed => true, driving_side => 'b')
"""
CITY_SPEED_KMH = {"primary": 40.0, "secondary": 30.0, "residential": 20.0}


@dataclass
class Team:
    """Team members' ids and positions; `move` relocates a share of them (GPS pings)."""

    ids: list[int]
    lonlat: NDArray[np.float64]
    rng: np.random.Generator

    def move(self, share: float = MOVING_SHARE) -> NDArray[np.intp]:
        """Move `share` of the members by ~PING_STEP_M in a random direction; their indices."""
        moved = self.rng.choice(len(self.ids), size=max(1, round(share * len(self.ids))), replace=False)
        east, north = self.rng.normal(0, PING_STEP_M, (2, len(moved)))
        lat = self.lonlat[moved, 1]
        self.lonlat[moved, 0] += east / (111_320 * np.cos(np.radians(lat)))
        self.lonlat[moved, 1] += north / 110_540
        return moved


def road_arcs(graph: RoadGraph) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Directed road arcs (from, to, seconds): both ways for two-way edges, loops dropped."""
    source, target = graph.edge_nodes[:, 0], graph.edge_nodes[:, 1]
    back = graph.two_way
    tails = np.concatenate([source, target[back]])
    heads = np.concatenate([target, source[back]])
    seconds = np.concatenate([graph.travel_time_s, graph.travel_time_s[back]])
    keep = tails != heads
    return tails[keep], heads[keep], seconds[keep]


def incident_entry(graph: RoadGraph, snap: Snaps) -> tuple[int, float, int | None, float]:
    """(source node, seconds from it, target node or None for one-way, seconds from it) onto the
    incident's edge: the two arcs of our virtual node."""
    edge, fraction = int(snap.edge[0]), float(snap.fraction[0])
    source, target = (int(v) for v in graph.edge_nodes[edge])
    seconds = float(graph.travel_time_s[edge])
    if not graph.two_way[edge]:
        return source, fraction * seconds, None, 0.0
    return source, fraction * seconds, target, (1 - fraction) * seconds


class NetworkxPeer:
    """One reverse single-source Dijkstra in networkx from a virtual incident node."""

    name = "networkx: one reverse single-source Dijkstra"

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        self.reverse = nx.DiGraph()
        self.reverse.add_nodes_from(range(graph.node_count))
        tails, heads, seconds = road_arcs(graph)
        for tail, head, cost in zip(tails.tolist(), heads.tolist(), seconds.tolist(), strict=True):
            # reversed arc head -> tail; parallel roads: the fastest one, as our CSR keeps
            if not self.reverse.has_edge(head, tail) or self.reverse[head][tail]["t"] > cost:
                self.reverse.add_edge(head, tail, t=cost)

    def distances(self, snap: Snaps) -> NDArray[np.float64]:
        n = self.graph.node_count
        source, to_source, target, to_target = incident_entry(self.graph, snap)
        self.reverse.add_edge(n, source, t=to_source)
        if target is not None and (target != source or to_target < to_source):
            self.reverse.add_edge(n, target, t=to_target)
        try:
            lengths = nx.single_source_dijkstra_path_length(
                self.reverse, n, cutoff=DEFAULT_LIMIT_S, weight="t"
            )
        finally:
            self.reverse.remove_node(n)
        dist = np.full(n + 1, np.inf)
        dist[np.fromiter(lengths.keys(), np.intp, len(lengths))] = np.fromiter(
            lengths.values(), float, len(lengths)
        )
        return dist


class IgraphPeer:
    """igraph's C Dijkstra towards both ends of the incident's edge, in one call.

    Weights are an edge attribute named in the call (passing a list converts ~190k floats per
    query). Measured on the 102k-node lattice and no faster: a temporary vertex and its two edges
    added and deleted per query (add_edges/delete_vertices rebuild igraph's edge index), and
    `target=` restricted to the candidates' edge ends (the search still settles most of the city)."""

    name = "igraph: distances to both ends of the incident's edge"

    def __init__(self, graph: RoadGraph) -> None:
        import igraph

        self.graph = graph
        tails, heads, seconds = road_arcs(graph)
        arcs = np.column_stack([tails, heads]).tolist()
        self.network = igraph.Graph(n=graph.node_count, edges=arcs, directed=True, edge_attrs={"t": seconds})

    def distances(self, snap: Snaps) -> NDArray[np.float64]:
        source, to_source, target, to_target = incident_entry(self.graph, snap)
        ends = [source] if target is None else [source, target]
        rows = np.asarray(self.network.distances(source=ends, weights="t", mode="in"), dtype=float)
        dist = rows[0] + to_source
        if target is not None:
            dist = np.minimum(dist, rows[1] + to_target)
        dist[dist > DEFAULT_LIMIT_S] = np.inf  # the same 3 h limit as ours
        return np.append(dist, 0.0)


def igraph_available() -> bool:
    try:
        import igraph  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Ranked:
    """One ranking: candidate order, their ETAs (s) and the seconds it took."""

    order: NDArray[np.intp]
    eta_s: NDArray[np.float64]
    seconds: float


def rank_ours(graph: RoadGraph, incident: tuple[float, float], positions: NDArray, ids: list[int]) -> Ranked:
    """Our kernel as dispatch runs it: search_to, travel_times with the member cache, sort."""
    started = time.perf_counter()
    total, straight, _ = graph.search_to(incident).travel_times(positions, ids)
    order = np.lexsort((straight, total))
    return Ranked(order, total, time.perf_counter() - started)


def rank_peer(
    graph: RoadGraph, distances: Distances, incident: tuple[float, float], positions: NDArray, ids: list[int]
) -> Ranked:
    """A peer's search in place of ours; the same snapping, edge arithmetic and sort."""
    started = time.perf_counter()
    snap = graph.snap(np.asarray([incident], dtype=float))
    search = IncidentSearch(graph, snap, distances(snap), np.empty(0, dtype=np.int32))
    total, straight, _ = search.travel_times(positions, ids)
    order = np.lexsort((straight, total))
    return Ranked(order, total, time.perf_counter() - started)


def naive_networkx(peer: NetworkxPeer, incident: tuple[float, float], positions: NDArray) -> float:
    """Naive: one node-to-node shortest path query per candidate (nearest nodes); seconds taken."""
    graph = peer.graph
    forward = peer.reverse.reverse(copy=False)
    started = time.perf_counter()
    nodes = graph.edge_nodes[graph.snap(positions).edge, 0]
    goal = int(graph.edge_nodes[graph.snap(np.asarray([incident])).edge[0], 0])
    for node in nodes.tolist():
        with contextlib.suppress(nx.NetworkXNoPath):
            nx.dijkstra_path_length(forward, node, goal, weight="t")
    return time.perf_counter() - started


def max_rel_diff(ours: NDArray[np.float64], theirs: NDArray[np.float64], floor: float = 1e-9) -> float:
    """Largest relative difference of finite ETAs (relative to max(theirs, floor)); inf when one
    side reaches a candidate the other cannot."""
    if not np.array_equal(np.isfinite(ours), np.isfinite(theirs)):
        return float("inf")
    finite = np.isfinite(ours)
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(ours[finite] - theirs[finite]) / np.maximum(theirs[finite], floor)))


def extent_lonlat(graph: RoadGraph) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """South-west and north-east corners of the road network in lon/lat."""
    x0, y0, x1, y1 = shapely.total_bounds(graph.lines)
    lon, lat = graph.to_lonlat.transform([x0, x1], [y0, y1])
    return np.array([lon[0], lat[0]]), np.array([lon[1], lat[1]])


def city_graph(side: int, rng: np.random.Generator, origin: RoadGraph, spacing_m: float = 100.0) -> RoadGraph:
    """A synthetic city drive network: a jittered side x side street lattice (spacing ~100 m),
    primary roads every 8th line (40 km/h), secondary every 4th (30 km/h), residential (20 km/h)
    with 12 % of blocks missing and a quarter one-way. Laid out in the metric CRS of `origin` (the
    district's own graph) from its south-west corner. Labelled synthetic wherever it is reported."""
    x0, y0, _, _ = shapely.total_bounds(origin.lines)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = x0 + jj.ravel() * spacing_m + rng.uniform(-15, 15, side * side)
    y = y0 + ii.ravel() * spacing_m + rng.uniform(-15, 15, side * side)
    node = ii * side + jj
    pairs, lines_of = [], []
    for right in (True, False):
        a = node[:, :-1] if right else node[:-1, :]
        b = node[:, 1:] if right else node[1:, :]
        line = (ii[:, :-1] if right else jj[:-1, :]).ravel()
        pairs.append(np.column_stack([a.ravel(), b.ravel()]))
        lines_of.append(line)
    edges, line = np.concatenate(pairs), np.concatenate(lines_of)
    road = np.where(line % 8 == 0, "primary", np.where(line % 4 == 0, "secondary", "residential"))
    residential = road == "residential"
    keep = ~(residential & (rng.random(len(edges)) < 0.12))
    edges, road, residential = edges[keep], road[keep], residential[keep]
    two_way = ~(residential & (rng.random(len(edges)) < 0.25))
    lon, lat = origin.to_lonlat.transform(x, y)
    node_lonlat = np.column_stack([lon, lat])
    lines = shapely.linestrings(np.stack([node_lonlat[edges[:, 0]], node_lonlat[edges[:, 1]]], axis=1))
    length = np.hypot(x[edges[:, 0]] - x[edges[:, 1]], y[edges[:, 0]] - y[edges[:, 1]])
    speed = np.vectorize(CITY_SPEED_KMH.get)(road)
    return RoadGraph.from_lonlat(
        np.arange(1, side * side + 1, dtype=np.int64),
        node_lonlat,
        np.arange(1, len(edges) + 1, dtype=np.int64),
        edges.astype(np.intp),
        length / (speed / 3.6),
        two_way,
        np.asarray(lines, dtype=object),
        origin.metric_crs,
    )


def district_edges_sql(district: str) -> str:
    """pgRouting's edge query (the same directed graph as ours) restricted to one district's roads."""
    if not district.isdigit():  # a district code is digits only; it is spliced into pgRouting's SQL
        raise ValueError(f"not a district code: {district!r}")
    return f"{PGR_EDGES_SQL} WHERE district_code = '{district}'"


def pgrouting(
    connection: Connection, graph: RoadGraph, district: str, team: Team, incidents: list[tuple[float, float]]
) -> tuple[float, list[float], int]:
    """(max relative difference of road ETAs, seconds per many-to-one call, pairs compared).

    Every candidate and the incident become pgRouting points (edge id, fraction from the source)
    exactly where we snapped them; the comparison is on the road part of the ETA (the walking
    legs to and from the road are ours alone). Timed: one call with every candidate, as a user
    would rank them. Compared: the same points in rounds with at most one candidate per edge,
    because pgRouting 3.4 adds cost when a route runs over another point of the same call
    (pgRouting issue #2254; each point alone agrees with us), and points at an edge's end as
    that vertex (issue #2966: a point at fraction 0 or 1 gets no row of its own)."""
    connection.execute(
        text("CREATE TEMP TABLE bench_points (pid bigint, edge_id bigint, fraction float8, side char)")
    )
    edges = district_edges_sql(district)
    worst, seconds, pairs = 0.0, [], 0
    for incident in incidents:
        team.move()
        search = graph.search_to(incident)
        total, _, snaps = search.travel_times(team.lonlat)
        ours = total - snaps.offset_m / ACCESS_SPEED_MPS - search.incident_access_s
        seconds.append(pgr_call(connection, graph, edges, snaps, search.snap, np.arange(len(ours)))[1])
        theirs = np.full(len(ours), np.inf)
        for members in one_per_edge(snaps):
            theirs[members] = pgr_call(connection, graph, edges, snaps, search.snap, members)[0]
        ours = np.where(np.abs(ours) < 1e-9, 0.0, ours)
        worst = max(worst, max_rel_diff(ours, theirs, floor=1.0))
        pairs += int(np.isfinite(theirs).sum())
    connection.execute(text("DROP TABLE bench_points"))
    return worst, seconds, pairs


def one_per_edge(snaps: Snaps) -> list[NDArray[np.intp]]:
    """Candidate indices in rounds holding at most one candidate per edge."""
    order = np.argsort(snaps.edge, kind="stable")
    edges = snaps.edge[order]
    first = np.searchsorted(edges, edges)
    rank = np.arange(len(edges)) - first  # position of each candidate among those on its edge
    return [order[rank == r] for r in range(int(rank.max()) + 1)]


def pgr_vertex(graph: RoadGraph, edge: int, fraction: float) -> int | None:
    """The vertex id of a point at an edge's end, None for a point inside the edge."""
    if 0.0 < fraction < 1.0:
        return None
    return int(graph.node_ids[graph.edge_nodes[edge, 0 if fraction <= 0 else 1]])


def pgr_call(
    connection: Connection,
    graph: RoadGraph,
    edges: str,
    snaps: Snaps,
    incident: Snaps,
    members: NDArray[np.intp],
) -> tuple[NDArray[np.float64], float]:
    """pgr_withPointsCost from the `members` to the incident: their road seconds and the call's time."""
    starts, points = [], []
    for k, member in enumerate(members.tolist(), start=1):
        edge, fraction = int(snaps.edge[member]), float(snaps.fraction[member])
        vertex = pgr_vertex(graph, edge, fraction)
        starts.append(vertex if vertex is not None else -k)
        if vertex is None:
            points.append((k, int(graph.edge_ids[edge]), fraction))
    goal_edge, goal_fraction = int(incident.edge[0]), float(incident.fraction[0])
    goal = pgr_vertex(graph, goal_edge, goal_fraction)
    if goal is None:
        goal = -(len(members) + 1)
        points.append((len(members) + 1, int(graph.edge_ids[goal_edge]), goal_fraction))
    connection.execute(text("TRUNCATE bench_points"))
    if points:
        pids, edge_ids, fractions = (list(column) for column in zip(*points, strict=True))
        connection.execute(text(POINTS_SQL), {"p": pids, "e": edge_ids, "f": fractions})
    started = time.perf_counter()
    rows = connection.execute(text(PGR_SQL), {"edges": edges, "starts": starts, "goal": goal}).all()
    took = time.perf_counter() - started
    cost = {int(start): float(agg) for start, agg in rows}
    found = np.array([0.0 if start == goal else cost.get(start, np.inf) for start in starts])
    return found, took

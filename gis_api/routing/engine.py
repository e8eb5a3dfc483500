"""In-memory road routing for dispatch, built on scipy.sparse.csgraph.

Each district's road network (road_node/road_edge rows of its import) is read once per process
into numpy arrays, measured in that district's metric CRS: a CSR matrix of the REVERSED graph (so
a single Dijkstra from the incident yields every node's travel time TO it), edge geometry in the
metric CRS, and a KD-tree over points sampled along the edges. A position is snapped
to the nearest road edge (not just the nearest node) and the partial edge's travel time is counted,
so a worker standing mid-block is not charged a detour to a far intersection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.ops import substring
from sqlalchemy import Connection, Engine, text

from gis_api.errors import InvalidInputError

SAMPLE_SPACING_M = 10.0
"""Spacing of the snapping samples; the chosen edge is the nearest to within half of this."""
ACCESS_SPEED_MPS = 1.2
"""Walking speed between a position and the road it is snapped to."""
DEFAULT_LIMIT_S = 3 * 3600.0
"""Reverse searches stop here: nobody is dispatched to an incident three hours away."""
MIN_EDGE_TIME_S = 1e-6

NODES_SQL = "SELECT id, ST_X(geom), ST_Y(geom) FROM road_node WHERE district_code = :d ORDER BY id"
EDGES_SQL = """SELECT id, source, target, travel_time_s, NOT oneway AND reverse_cost >= 0,
    ST_AsBinary(geom) FROM road_edge WHERE district_code = :d ORDER BY id"""
PGR_EDGES_SQL = """SELECT id, source, target, travel_time_s AS cost,
    CASE WHEN oneway OR reverse_cost < 0 THEN -1 ELSE travel_time_s END AS reverse_cost
    FROM road_edge"""
"""The same directed graph for pgr_dijkstra, so both engines can be compared."""


@dataclass(frozen=True)
class Snaps:
    """Positions snapped to edges: edge index, fraction along it (source->target), offset in m."""

    edge: NDArray[np.intp]
    fraction: NDArray[np.float64]
    offset_m: NDArray[np.float64]
    xy: NDArray[np.float64]


RankedCandidate = tuple[int, float, float]
"""(candidate index, road travel time in s (inf when unreachable), straight-line distance in m).

Plain tuples: building 1,500 small objects per decision would cost more than the search itself."""


@dataclass(frozen=True)
class Route:
    """A candidate's road route to the incident as a GeoJSON LineString with its ETA."""

    geometry: dict[str, object]
    eta_s: float
    length_m: float
    edge_ids: list[int]


class RoadGraph:
    """The road network as arrays; build with `from_connection` or `from_arrays`."""

    def __init__(
        self,
        node_ids: NDArray[np.int64],
        edge_ids: NDArray[np.int64],
        edge_nodes: NDArray[np.intp],
        travel_time_s: NDArray[np.float64],
        two_way: NDArray[np.bool_],
        lines: NDArray[np.object_],
        metric_crs: str,
    ) -> None:
        self.metric_crs = metric_crs
        self.node_ids = node_ids
        self.edge_ids = edge_ids
        self.edge_nodes = edge_nodes
        self.travel_time_s = np.maximum(travel_time_s, MIN_EDGE_TIME_S)
        self.two_way = two_way
        self.lines = lines
        self.length_m = shapely.length(lines) if len(lines) else np.zeros(0)
        self.to_metric = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
        self.to_lonlat = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)
        self._build_reverse_csr()
        self._build_samples()
        self.member_snaps = MemberSnaps(self)

    @property
    def node_count(self) -> int:
        return len(self.node_ids)

    @property
    def is_empty(self) -> bool:
        return len(self.edge_ids) == 0

    @classmethod
    def from_connection(cls, connection: Connection, district: str | None = None) -> RoadGraph:
        """Read one district's road_node and road_edge rows (the only district by default) through
        `connection` (sees uncommitted test rows too)."""
        from gis_api.districts.service import resolve_district

        target = resolve_district(connection, district)
        nodes = connection.execute(text(NODES_SQL), {"d": target.code}).all()
        edges = connection.execute(text(EDGES_SQL), {"d": target.code}).all()
        node_ids = np.array([row[0] for row in nodes], dtype=np.int64)
        lonlat = np.array([(row[1], row[2]) for row in nodes], dtype=float).reshape(-1, 2)
        position = {int(node): index for index, node in enumerate(node_ids)}
        edge_nodes = np.array([(position[row[1]], position[row[2]]) for row in edges], dtype=np.intp).reshape(
            -1, 2
        )
        lines = shapely.from_wkb([bytes(row[5]) for row in edges])
        return cls.from_lonlat(
            node_ids,
            lonlat,
            np.array([row[0] for row in edges], dtype=np.int64),
            edge_nodes,
            np.array([row[3] for row in edges], dtype=float),
            np.array([row[4] for row in edges], dtype=bool),
            np.asarray(lines, dtype=object),
            target.metric_crs,
        )

    @classmethod
    def from_lonlat(
        cls,
        node_ids: NDArray[np.int64],
        node_lonlat: NDArray[np.float64],
        edge_ids: NDArray[np.int64],
        edge_nodes: NDArray[np.intp],
        travel_time_s: NDArray[np.float64],
        two_way: NDArray[np.bool_],
        lines_lonlat: NDArray[np.object_],
        metric_crs: str,
    ) -> RoadGraph:
        """Project lon/lat geometry to the metric CRS and orient each line source -> target."""
        to_metric = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
        lines = shapely.transform(
            lines_lonlat, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
        )
        node_xy = np.column_stack(to_metric.transform(node_lonlat[:, 0], node_lonlat[:, 1]))
        lines = _oriented(lines, node_xy[edge_nodes[:, 0]]) if len(lines) else lines
        return cls(node_ids, edge_ids, edge_nodes, travel_time_s, two_way, lines, metric_crs)

    def _build_reverse_csr(self) -> None:
        """CSR of the reversed graph plus one virtual node (the incident) with two spare slots."""
        source, target = self.edge_nodes[:, 0], self.edge_nodes[:, 1]
        back = self.two_way
        # reversed arcs: for u->v in the road graph store v->u
        rows = np.concatenate([target, source[back]])
        cols = np.concatenate([source, target[back]])
        weights = np.concatenate([self.travel_time_s, self.travel_time_s[back]])
        edges = np.concatenate([np.arange(len(source)), np.flatnonzero(back)])
        keep = rows != cols
        rows, cols, weights, edges = rows[keep], cols[keep], weights[keep], edges[keep]
        # parallel roads: keep the fastest arc between two nodes
        order = np.lexsort((weights, cols, rows))
        rows, cols, weights, edges = rows[order], cols[order], weights[order], edges[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, weights, edges = rows[first], cols[first], weights[first], edges[first]
        n = self.node_count
        counts = np.bincount(rows, minlength=n + 1)
        counts[n] = 2
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        self.indices = np.concatenate([cols, [0, 0]]).astype(np.int32)
        self.weights = np.concatenate([weights, [0.0, 0.0]])
        self.arc_edge = np.concatenate([edges, [-1, -1]])

    def _build_samples(self) -> None:
        """Points every SAMPLE_SPACING_M along each edge, each remembering its segment."""
        if self.is_empty:
            self.sample_tree = None
            return
        coords, line_index = shapely.get_coordinates(self.lines, return_index=True)
        same = line_index[1:] == line_index[:-1]
        start, end, edge = coords[:-1][same], coords[1:][same], line_index[:-1][same]
        seg_len = np.hypot(*(end - start).T)
        cum = np.concatenate([[0.0], np.cumsum(seg_len)])  # one spare for degenerate lines
        edge_first = np.searchsorted(edge, np.arange(len(self.lines)))
        seg_offset = cum[:-1] - cum[edge_first][edge]
        pieces = np.maximum(np.ceil(seg_len / SAMPLE_SPACING_M), 1).astype(int)
        seg = np.repeat(np.arange(len(start)), pieces + 1)
        step = np.concatenate([np.linspace(0, 1, p + 1) for p in pieces])
        points = start[seg] + (end[seg] - start[seg]) * step[:, None]
        self.sample_tree = cKDTree(points)
        self.sample_segment = seg
        self.segment = (start, end, edge, seg_offset, seg_len)

    def snap(self, lonlat: NDArray[np.float64]) -> Snaps:
        """Snap lon/lat positions (shape (m, 2)) to the nearest road edge."""
        if self.sample_tree is None:
            raise InvalidInputError("no road network loaded: cannot snap positions to roads")
        lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        xy = np.column_stack(self.to_metric.transform(lonlat[:, 0], lonlat[:, 1]))
        _, nearest = self.sample_tree.query(xy)
        start, end, edge, seg_offset, seg_len = (part[self.sample_segment[nearest]] for part in self.segment)
        direction = end - start
        squared = np.maximum(np.einsum("ij,ij->i", direction, direction), 1e-12)
        t = np.clip(np.einsum("ij,ij->i", xy - start, direction) / squared, 0.0, 1.0)
        foot = start + direction * t[:, None]
        along = seg_offset + t * seg_len
        fraction = np.clip(along / np.maximum(self.length_m[edge], 1e-9), 0.0, 1.0)
        return Snaps(edge.astype(np.intp), fraction, np.hypot(*(xy - foot).T), xy)

    def search_to(self, incident_lonlat: Sequence[float], limit_s: float = DEFAULT_LIMIT_S) -> IncidentSearch:
        """One reverse Dijkstra from the incident: every node's travel time to reach it."""
        snap = self.snap(np.asarray([incident_lonlat], dtype=float))
        edge, fraction = int(snap.edge[0]), float(snap.fraction[0])
        source, target = self.edge_nodes[edge]
        time_s = self.travel_time_s[edge]
        indices, weights = self.indices.copy(), self.weights.copy()
        # virtual node n: reached from the edge's source going forward, from its target if two-way
        indices[-2:] = (source, target if self.two_way[edge] else source)
        weights[-2:] = (
            fraction * time_s,
            (1 - fraction) * time_s if self.two_way[edge] else fraction * time_s,
        )
        n = self.node_count
        graph = csr_matrix((np.maximum(weights, MIN_EDGE_TIME_S), indices, self.indptr), shape=(n + 1, n + 1))
        dist, pred = dijkstra(graph, indices=n, return_predecessors=True, limit=limit_s)
        return IncidentSearch(self, snap, dist, pred)

    def times_to_node(self, node_index: int, limit_s: float = np.inf) -> NDArray[np.float64]:
        """Travel time from every node to one node (for comparisons with pgr_dijkstra)."""
        n = self.node_count
        graph = csr_matrix((self.weights[:-2], self.indices[:-2], self.indptr[:-1]), shape=(n, n))
        return np.asarray(dijkstra(graph, indices=node_index, limit=limit_s))

    def rank_candidates(
        self,
        incident_lonlat: Sequence[float],
        candidate_positions: NDArray[np.float64] | Sequence[Sequence[float]],
        limit_s: float = DEFAULT_LIMIT_S,
        member_ids: Sequence[int] | None = None,
    ) -> list[RankedCandidate]:
        """Candidates (lon/lat rows) ordered by road travel time to the incident, fastest first.

        With `member_ids` the candidates' snaps come from (and refresh) the per-member cache."""
        return self.search_to(incident_lonlat, limit_s).rank(candidate_positions, member_ids)


class MemberSnaps:
    """Team members' positions snapped to the road graph, kept until a member reports a new position.

    Snapping 1,500 candidates costs more than the reverse search itself, and members move far less
    often than incidents arrive, so each (member, position) is snapped once per process."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        self.row: dict[int, int] = {}
        self.lonlat = np.empty((0, 2))
        self.edge = np.empty(0, dtype=np.intp)
        self.fraction = np.empty(0)
        self.offset_m = np.empty(0)
        self.xy = np.empty((0, 2))
        self.lock = threading.Lock()

    def snaps(self, member_ids: Sequence[int], lonlat: NDArray[np.float64]) -> Snaps:
        """Snaps of the members at these positions (lon/lat rows), snapping only new positions."""
        lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        with self.lock:
            rows = np.fromiter((self.row.get(int(m), -1) for m in member_ids), np.intp, len(member_ids))
            stale = rows < 0
            stale[~stale] = np.any(self.lonlat[rows[~stale]] != lonlat[~stale], axis=1)
            if stale.any():
                rows[stale] = self._store([int(m) for m in np.asarray(member_ids)[stale]], lonlat[stale])
            return Snaps(self.edge[rows], self.fraction[rows], self.offset_m[rows], self.xy[rows])

    def _store(self, member_ids: list[int], lonlat: NDArray[np.float64]) -> NDArray[np.intp]:
        """Snap and record positions; a member seen before keeps its row, a new one is appended."""
        fresh = self.graph.snap(lonlat)
        rows = np.empty(len(member_ids), dtype=np.intp)
        for k, member in enumerate(member_ids):
            rows[k] = self.row.setdefault(member, len(self.row))
        grow = len(self.row) - len(self.edge)
        if grow > 0:
            self.lonlat = np.concatenate([self.lonlat, np.zeros((grow, 2))])
            self.edge = np.concatenate([self.edge, np.zeros(grow, dtype=np.intp)])
            self.fraction = np.concatenate([self.fraction, np.zeros(grow)])
            self.offset_m = np.concatenate([self.offset_m, np.zeros(grow)])
            self.xy = np.concatenate([self.xy, np.zeros((grow, 2))])
        self.lonlat[rows], self.edge[rows], self.fraction[rows] = lonlat, fresh.edge, fresh.fraction
        self.offset_m[rows], self.xy[rows] = fresh.offset_m, fresh.xy
        return rows


class IncidentSearch:
    """The result of one reverse search: travel times from anywhere to one incident."""

    def __init__(
        self, graph: RoadGraph, snap: Snaps, dist: NDArray[np.float64], pred: NDArray[np.int32]
    ) -> None:
        self.graph = graph
        self.snap = snap
        self.dist = dist
        self.pred = pred

    @property
    def incident_access_s(self) -> float:
        return float(self.snap.offset_m[0] / ACCESS_SPEED_MPS)

    def travel_times(
        self, positions: NDArray[np.float64], member_ids: Sequence[int] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], Snaps]:
        """Door-to-door seconds (walk to road, drive, walk to incident) and straight-line metres.

        Given the members' ids, their snaps come from the graph's per-member cache."""
        g = self.graph
        snaps = g.snap(positions) if member_ids is None else g.member_snaps.snaps(member_ids, positions)
        via, _ = self._best_entry(snaps)
        total = via + (snaps.offset_m / ACCESS_SPEED_MPS) + self.incident_access_s
        straight = np.hypot(*(snaps.xy - self.snap.xy[0]).T)
        return total, straight, snaps

    def _best_entry(self, snaps: Snaps) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Road seconds from each snapped point, and how: 0 via edge target, 1 via source, 2 direct."""
        g = self.graph
        edge, fraction = snaps.edge, snaps.fraction
        time_s = g.travel_time_s[edge]
        source, target = g.edge_nodes[edge, 0], g.edge_nodes[edge, 1]
        forward = (1 - fraction) * time_s + self.dist[target]
        backward = np.where(g.two_way[edge], fraction * time_s + self.dist[source], np.inf)
        incident_edge, incident_fraction = self.snap.edge[0], self.snap.fraction[0]
        ahead = incident_fraction - fraction
        direct = np.where(
            edge != incident_edge,
            np.inf,
            np.where(ahead >= 0, ahead * time_s, np.where(g.two_way[edge], -ahead * time_s, np.inf)),
        )
        options = np.column_stack([forward, backward, direct])
        how = np.argmin(options, axis=1)
        return options[np.arange(len(how)), how], how

    def rank(
        self,
        positions: NDArray[np.float64] | Sequence[Sequence[float]],
        member_ids: Sequence[int] | None = None,
    ) -> list[RankedCandidate]:
        """All candidates ordered by travel time (ties and unreachable ones by straight line)."""
        total, straight, _ = self.travel_times(np.asarray(positions, dtype=float), member_ids)
        order = np.lexsort((straight, total))
        return list(zip(order.tolist(), total[order].tolist(), straight[order].tolist(), strict=True))

    def route_from(self, position: Sequence[float]) -> Route:
        """The road route from one position to the incident, with ETA, as GeoJSON."""
        g = self.graph
        snaps = g.snap(np.asarray([position], dtype=float))
        seconds, how = self._best_entry(snaps)
        if not np.isfinite(seconds[0]):
            raise InvalidInputError("the incident cannot be reached by road from this position")
        pieces, edge_ids = self._route_pieces(snaps, int(how[0]))
        coords = _without_repeats(np.concatenate([snaps.xy[:1], *pieces, self.snap.xy[:1]]))
        lon, lat = g.to_lonlat.transform(coords[:, 0], coords[:, 1])
        geometry: dict[str, object] = {
            "type": "LineString",
            "coordinates": [[float(x), float(y)] for x, y in zip(lon, lat, strict=True)],
        }
        eta = float(seconds[0] + snaps.offset_m[0] / ACCESS_SPEED_MPS + self.incident_access_s)
        length = float(np.sum(np.hypot(*np.diff(coords, axis=0).T)))
        return Route(geometry, eta, length, edge_ids)

    def _route_pieces(self, snaps: Snaps, how: int) -> tuple[list[NDArray[np.float64]], list[int]]:
        """Coordinate pieces and edge ids from a snapped position along the search tree."""
        g = self.graph
        edge, fraction = int(snaps.edge[0]), float(snaps.fraction[0])
        if how == 2:
            return self._traverse([], [], edge, fraction, float(self.snap.fraction[0]))
        node = int(g.edge_nodes[edge, 0 if how == 1 else 1])
        pieces, edge_ids = self._traverse([], [], edge, fraction, 0.0 if how == 1 else 1.0)
        n = g.node_count
        while node != n:
            parent = int(self.pred[node])
            if parent == n:
                hop, end = int(self.snap.edge[0]), float(self.snap.fraction[0])
            else:
                hop = int(g.arc_edge[_arc(g, parent, node)])
                end = 1.0 if g.edge_nodes[hop, 0] == node else 0.0
            start = 0.0 if g.edge_nodes[hop, 0] == node else 1.0
            self._traverse(pieces, edge_ids, hop, start, end)
            node = parent
        return pieces, edge_ids

    def _traverse(
        self, pieces: list[NDArray[np.float64]], edge_ids: list[int], edge: int, start: float, end: float
    ) -> tuple[list[NDArray[np.float64]], list[int]]:
        """Append the part of `edge` between two fractions (in travel order) to the route."""
        length = self.graph.length_m[edge]
        pieces.append(np.asarray(substring(self.graph.lines[edge], start * length, end * length).coords))
        if abs(end - start) * length > 1e-6:
            edge_ids.append(int(self.graph.edge_ids[edge]))
        return pieces, edge_ids


def _without_repeats(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """Drop consecutive duplicate vertices (where route pieces meet)."""
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(coords, axis=0)) > 1e-6, axis=1)
    return coords[keep]


def _arc(graph: RoadGraph, row: int, col: int) -> int:
    """Index of the reversed-graph arc row -> col (the road hop col -> row)."""
    begin, end = graph.indptr[row], graph.indptr[row + 1]
    hits = np.flatnonzero(graph.indices[begin:end] == col)
    return int(begin + hits[0]) if len(hits) else -1


def _oriented(lines: NDArray[np.object_], source_xy: NDArray[np.float64]) -> NDArray[np.object_]:
    """Reverse lines whose first vertex is farther from their source node than their last."""
    first = shapely.get_point(lines, 0)
    last = shapely.get_point(lines, -1)
    source = shapely.points(source_xy)
    flip = shapely.distance(last, source) < shapely.distance(first, source)
    lines = lines.copy()
    lines[flip] = shapely.reverse(lines[flip])
    return lines


_CACHE: dict[tuple[str, str], RoadGraph] = {}
_CACHE_LOCK = threading.Lock()
GraphLookup = Callable[[str], RoadGraph]
"""District code → that district's road graph (dispatch and routes use the case's district)."""


def road_graph(engine: Engine, district: str) -> RoadGraph:
    """The process-wide road graph of one district of this database, loaded on first use."""
    key = (engine.url.render_as_string(hide_password=True), district)
    with _CACHE_LOCK:
        if key not in _CACHE:
            with engine.connect() as connection:
                _CACHE[key] = RoadGraph.from_connection(connection, district)
        return _CACHE[key]


def graph_lookup(engine: Engine, preloaded: dict[str, RoadGraph] | None = None) -> GraphLookup:
    """Graphs by district: preloaded ones (tests, warm starts) first, else the process-wide cache."""

    def lookup(district: str) -> RoadGraph:
        if preloaded and district in preloaded:
            return preloaded[district]
        return road_graph(engine, district)

    return lookup


def forget_road_graphs() -> None:
    """Drop cached graphs (after the road network was reloaded)."""
    with _CACHE_LOCK:
        _CACHE.clear()

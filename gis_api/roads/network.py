"""A routable road graph in pgRouting's layout, built from plain LineStrings (no database here).

Topology comes from the segment endpoints: endpoints closer than `snap_tolerance_m` (1 m in the
district's metric CRS) become one node, so the input must already be split at intersections, as OSM-derived
linework and osmnx edges are; crossings without a shared endpoint (bridges over roads) stay
unconnected, which is what we want. Each edge gets its metric length, a road class, a speed for
that class, travel_time_s, and pgRouting's cost/reverse_cost (reverse_cost = -1 when one-way).

Edges whose class is unknown (the WHroad file has none) get one from their *stroke*: the chain of
edges that continue each other straight through intersections (deflection under 45°, best pairs
first, as in "natural roads" street-network analysis). A stroke that contains classified edges
lends its dominant class (by length) to the rest, and its name when all its named edges agree;
otherwise the stroke's total length decides, because in a city grid the long straight
through-routes are the arterials: >= 4 km primary, >= 1.5 km secondary, shorter tertiary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

# Effective urban speeds in Wuhan traffic, not legal limits: signals, congestion and e-bikes
# sharing the lanes keep an expressway near 60 km/h on average and a residential lane near 20.
SPEED_KMH_BY_CLASS: dict[str, float] = {
    "motorway": 60.0,
    "trunk": 50.0,
    "primary": 40.0,
    "secondary": 35.0,
    "tertiary": 30.0,
    "unclassified": 25.0,
    "residential": 20.0,
    "service": 15.0,
    "cycleway": 12.0,
    "living_street": 10.0,
    "track": 10.0,
    "pedestrian": 5.0,
    "footway": 5.0,
    "path": 5.0,
    "steps": 3.0,
}
CLASS_RANK = {road_class: rank for rank, road_class in enumerate(SPEED_KMH_BY_CLASS)}
"""Classes from most to least important (the order of the speed table)."""
UNKNOWN_CLASS = "unclassified"
NOT_ROUTABLE = frozenset({"construction", "proposed", "abandoned", "disused", "razed", "platform"})
"""OSM highway values that are not (yet) roads: dropped from the graph."""
STROKE_DEFLECTION_DEG = 45.0
BEARING_SAMPLE_M = 20.0
PRIMARY_STROKE_M = 4000.0
SECONDARY_STROKE_M = 1500.0
MIN_TRAVEL_TIME_S = 1e-6
"""scipy's dijkstra reads a stored 0 as "no arc", so zero-length edges cost a microsecond."""

Arcs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes (id 1..N, component, Point) and edges (id 1..M, pgRouting columns, LineString), 4326."""

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    class_sources: dict[str, int]
    """Edges per origin of their class: input, stroke (from classified neighbours), stroke_length."""

    @property
    def total_km(self) -> float:
        return float(self.edges["length_m"].sum() / 1000.0)

    def component_sizes(self) -> NDArray[np.int64]:
        """Node count of each connected component, largest first (component 0 is the largest)."""
        return np.bincount(self.nodes["component"].to_numpy()).astype(np.int64)

    @property
    def largest_component_share(self) -> float:
        """Share of nodes in the largest connected component."""
        sizes = self.component_sizes()
        return float(sizes[0] / sizes.sum()) if sizes.size else 0.0

    def travel_time_matrix(self) -> csr_matrix:
        """Directed graph (row = from node index = id - 1) weighted by travel_time_s."""
        source = self.edges["source"].to_numpy(dtype=np.int64) - 1
        target = self.edges["target"].to_numpy(dtype=np.int64) - 1
        cost = self.edges["cost"].to_numpy(dtype=np.float64)
        reverse = self.edges["reverse_cost"].to_numpy(dtype=np.float64)
        two_way = reverse >= 0
        arcs = (
            np.concatenate([source, target[two_way]]),
            np.concatenate([target, source[two_way]]),
            np.concatenate([cost, reverse[two_way]]),
        )
        return _cheapest_arcs(arcs, len(self.nodes))

    def travel_times_s(self, from_node_ids: list[int]) -> NDArray[np.float64]:
        """Shortest travel time (s) from each given node id to every node (inf when unreachable)."""
        indices = np.asarray(from_node_ids, dtype=np.int64) - 1
        times = dijkstra(self.travel_time_matrix(), directed=True, indices=indices)
        return np.atleast_2d(np.asarray(times, dtype=np.float64))


def build_network(
    lines: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    snap_tolerance_m: float = 1.0,
) -> RoadNetwork:
    """Graph from EPSG:4326 lines with optional road_class, name and oneway columns.

    Raises ValueError when no routable line is left (empty input, only construction ways).
    """
    segments = single_lines(lines)
    if segments.empty:
        raise ValueError("no routable road lines")
    metric = np.asarray(segments.to_crs(metric_crs).geometry.values, dtype=object)
    source, target, node_xy = snap_endpoints(metric, snap_tolerance_m)
    metric = pin_ends(metric, node_xy[source], node_xy[target])
    length_m = shapely.length(metric)
    keep = ~((source == target) & (length_m < 2 * snap_tolerance_m))  # snapped-away stubs
    if not keep.any():
        raise ValueError("no routable road lines longer than the snapping tolerance")
    segments, metric, source, target, length_m = (
        segments[keep].reset_index(drop=True),
        metric[keep],
        source[keep],
        target[keep],
        length_m[keep],
    )
    node_ids, source, target = _renumber(source, target)
    node_lonlat = _to_lonlat(node_xy[node_ids], metric_crs)
    lonlat = pin_ends(
        np.asarray(segments.geometry.values, dtype=object), node_lonlat[source], node_lonlat[target]
    )
    classes, names, class_sources = classify(segments, metric, source, target, length_m)
    edges = _edge_frame(lonlat, source, target, classes, names, segments["oneway"].to_numpy(), length_m)
    components = _components(source, target, len(node_ids))
    nodes = gpd.GeoDataFrame(
        {"id": np.arange(1, len(node_ids) + 1), "component": components},
        geometry=shapely.points(node_lonlat),
        crs="EPSG:4326",
    )
    return RoadNetwork(nodes=nodes, edges=edges, class_sources=class_sources)


def single_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One non-empty LineString per row with normalised road_class, name and oneway columns.

    oneway "-1" (OSM: one-way against the drawing direction) is turned into a reversed line.
    Non-routable classes (construction, proposed, …) are dropped.
    """
    frame = lines.explode(index_parts=False, ignore_index=True)
    frame = frame[frame.geom_type.eq("LineString") & ~frame.geometry.is_empty].copy()
    frame["road_class"] = [normalise_class(value) for value in _column(frame, "road_class")]
    frame["name"] = [normalise_name(value) for value in _column(frame, "name")]
    oneway = [str(value).strip().lower() for value in _column(frame, "oneway")]
    backwards = np.array([value == "-1" for value in oneway], dtype=bool)
    frame["oneway"] = [value in ("yes", "true", "1", "-1") for value in oneway]
    if backwards.any():
        frame.loc[backwards, "geometry"] = shapely.reverse(frame.geometry.values[backwards])
    routable = ~frame["road_class"].isin(NOT_ROUTABLE).to_numpy()
    return frame[routable & (shapely.length(frame.geometry.values) > 0)].reset_index(drop=True)


def normalise_class(value: object) -> str | None:
    """OSM highway value to our class: links count as their road, lists take the best class."""
    if isinstance(value, list | tuple | np.ndarray):
        candidates = [normalise_class(item) for item in value]
        known = [item for item in candidates if item is not None]
        return min(known, key=lambda item: CLASS_RANK.get(item, len(CLASS_RANK))) if known else None
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return None
    road_class = str(value).strip().lower().removesuffix("_link")
    if road_class in SPEED_KMH_BY_CLASS or road_class in NOT_ROUTABLE:
        return road_class
    return UNKNOWN_CLASS


def normalise_name(value: object) -> str | None:
    if isinstance(value, list | tuple | np.ndarray):
        value = next((item for item in value if normalise_name(item)), None)
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return None
    return str(value).strip()[:128]


def snap_endpoints(
    metric_lines: NDArray[np.object_], tolerance_m: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Cluster segment endpoints closer than tolerance_m; return source, target and node x/y."""
    starts = shapely.get_coordinates(shapely.get_point(metric_lines, 0))
    ends = shapely.get_coordinates(shapely.get_point(metric_lines, -1))
    points = np.vstack([starts, ends])
    pairs = cKDTree(points).query_pairs(tolerance_m, output_type="ndarray")
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2)
    _, labels = connected_components(links, directed=False)
    sizes = np.bincount(labels)
    node_xy = np.column_stack([np.bincount(labels, weights=points[:, axis]) / sizes for axis in (0, 1)])
    count = len(metric_lines)
    return labels[:count].astype(np.int64), labels[count:].astype(np.int64), node_xy


def pin_ends(
    lines: NDArray[np.object_], start_xy: NDArray[np.float64], end_xy: NDArray[np.float64]
) -> NDArray[np.object_]:
    """The same lines with first and last vertex moved onto their nodes."""
    coordinates, index = shapely.get_coordinates(lines, return_index=True)
    firsts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    lasts = np.r_[firsts[1:] - 1, len(index) - 1]
    coordinates[firsts] = start_xy
    coordinates[lasts] = end_xy
    return np.asarray(shapely.linestrings(coordinates, indices=index), dtype=object)


def classify(
    segments: gpd.GeoDataFrame,
    metric: NDArray[np.object_],
    source: NDArray[np.int64],
    target: NDArray[np.int64],
    length_m: NDArray[np.float64],
) -> tuple[list[str], list[str | None], dict[str, int]]:
    """Each edge's class and name: from the input, else from its stroke (see module docstring)."""
    given = segments["road_class"].to_numpy(dtype=object)
    names = np.array(segments["name"], dtype=object)
    known = pd.notna(given)
    sources = {"input": int(known.sum()), "stroke": 0, "stroke_length": 0}
    if known.all():
        return [str(value) for value in given], _names(names), sources
    table = pd.DataFrame(
        {"stroke": strokes(metric, source, target), "road_class": given, "name": names, "length": length_m}
    )
    dominant_class = _dominant(table[known], "road_class")
    named = table[table["name"].notna()]
    single_named = named.groupby("stroke")["name"].nunique().loc[lambda counts: counts == 1].index
    dominant_name = _dominant(named[named["stroke"].isin(single_named)], "name")
    stroke_length = table.groupby("stroke")["length"].sum()
    classes = np.array(given, dtype=object)
    for position in np.flatnonzero(~known):
        stroke = table.at[position, "stroke"]
        if stroke in dominant_class.index:
            classes[position] = dominant_class[stroke]
            sources["stroke"] += 1
        else:
            classes[position] = _class_by_length(float(stroke_length[stroke]))
            sources["stroke_length"] += 1
        if pd.isna(names[position]) and stroke in dominant_name.index:
            names[position] = dominant_name[stroke]
    return [str(value) for value in classes], _names(names), sources


def _names(values: NDArray[np.object_]) -> list[str | None]:
    return [None if pd.isna(value) else str(value) for value in values]


def strokes(
    metric: NDArray[np.object_], source: NDArray[np.int64], target: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Stroke id per edge: at every node, pair the edge ends that continue straightest."""
    bearings = np.empty(2 * len(metric))
    bearings[0::2] = _bearing_out(metric, at_start=True)
    bearings[1::2] = _bearing_out(metric, at_start=False)
    ends_at: dict[int, list[int]] = defaultdict(list)
    for edge, (start_node, end_node) in enumerate(zip(source, target, strict=True)):
        ends_at[int(start_node)].append(2 * edge)
        ends_at[int(end_node)].append(2 * edge + 1)
    parent = np.arange(len(metric))
    for ends in ends_at.values():
        for first, second in _straightest_pairs(ends, bearings):
            _union(parent, first // 2, second // 2)
    return np.array([_find(parent, edge) for edge in range(len(metric))], dtype=np.int64)


def _straightest_pairs(ends: list[int], bearings: NDArray[np.float64]) -> list[tuple[int, int]]:
    """Greedy best-fit pairing of the edge ends meeting at one node, deflection under 45°."""
    candidates = []
    for i, first in enumerate(ends):
        for second in ends[i + 1 :]:
            if first // 2 == second // 2:
                continue
            turn = abs((bearings[first] - bearings[second] + 180.0) % 360.0 - 180.0)
            candidates.append((180.0 - turn, first, second))
    paired: set[int] = set()
    chosen = []
    for deflection, first, second in sorted(candidates):
        if deflection > STROKE_DEFLECTION_DEG:
            break
        if first not in paired and second not in paired:
            paired.update((first, second))
            chosen.append((first, second))
    return chosen


def _bearing_out(metric: NDArray[np.object_], *, at_start: bool) -> NDArray[np.float64]:
    """Compass bearing (degrees) leaving a line's start or end, measured over its first ~20 m."""
    lengths = shapely.length(metric)
    reach = np.minimum(BEARING_SAMPLE_M, lengths / 2.0)
    anchor = shapely.get_point(metric, 0 if at_start else -1)
    toward = shapely.line_interpolate_point(metric, reach if at_start else lengths - reach)
    dx = shapely.get_x(toward) - shapely.get_x(anchor)
    dy = shapely.get_y(toward) - shapely.get_y(anchor)
    return np.degrees(np.arctan2(dx, dy))


def _find(parent: NDArray[np.int64], item: int) -> int:
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = int(parent[item])
    return item


def _union(parent: NDArray[np.int64], first: int, second: int) -> None:
    parent[_find(parent, first)] = _find(parent, second)


def _dominant(table: pd.DataFrame, column: str) -> pd.Series:
    """Per stroke, the value of `column` covering the most length."""
    if table.empty:
        return pd.Series(dtype=object)
    totals = table.groupby(["stroke", column])["length"].sum().reset_index()
    best = totals.sort_values(["stroke", "length"], ascending=[True, False]).drop_duplicates("stroke")
    return best.set_index("stroke")[column]


def _class_by_length(stroke_length_m: float) -> str:
    if stroke_length_m >= PRIMARY_STROKE_M:
        return "primary"
    if stroke_length_m >= SECONDARY_STROKE_M:
        return "secondary"
    return "tertiary"


def _edge_frame(
    lonlat: NDArray[np.object_],
    source: NDArray[np.int64],
    target: NDArray[np.int64],
    classes: list[str],
    names: list[str | None],
    oneway: NDArray[np.bool_],
    length_m: NDArray[np.float64],
) -> gpd.GeoDataFrame:
    speed_kmh = np.array([SPEED_KMH_BY_CLASS[road_class] for road_class in classes])
    travel_time_s = np.maximum(length_m / (speed_kmh / 3.6), MIN_TRAVEL_TIME_S)
    oneway = oneway.astype(bool)
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, len(lonlat) + 1),
            "source": source + 1,
            "target": target + 1,
            "name": names,
            "road_class": classes,
            "oneway": oneway,
            "length_m": length_m,
            "speed_kmh": speed_kmh,
            "travel_time_s": travel_time_s,
            "cost": travel_time_s,
            "reverse_cost": np.where(oneway, -1.0, travel_time_s),
        },
        geometry=lonlat,
        crs="EPSG:4326",
    )


def _renumber(
    source: NDArray[np.int64], target: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Drop nodes no edge uses; return kept old ids and the edges' new 0-based endpoints."""
    used, inverse = np.unique(np.concatenate([source, target]), return_inverse=True)
    return used, inverse[: len(source)], inverse[len(source) :]


def _components(source: NDArray[np.int64], target: NDArray[np.int64], node_count: int) -> NDArray[np.int64]:
    """Weakly connected component per node, numbered by size (0 = largest)."""
    links = coo_matrix((np.ones(len(source)), (source, target)), shape=(node_count, node_count))
    _, labels = connected_components(links, directed=False)
    by_size = np.argsort(-np.bincount(labels), kind="stable")
    rank = np.empty_like(by_size)
    rank[by_size] = np.arange(len(by_size))
    return rank[labels].astype(np.int64)


def _to_lonlat(xy: NDArray[np.float64], metric_crs: str) -> NDArray[np.float64]:
    points = gpd.GeoSeries(shapely.points(xy), crs=metric_crs).to_crs("EPSG:4326")
    return shapely.get_coordinates(points.values)


def _column(frame: pd.DataFrame, name: str) -> list[object]:
    return list(frame[name]) if name in frame.columns else [None] * len(frame)


def _cheapest_arcs(arcs: tuple[NDArray, NDArray, NDArray], size: int) -> csr_matrix:
    """CSR matrix of arcs where parallel arcs keep their minimum (csr_matrix would add them)."""
    rows, columns, weights = arcs
    order = np.lexsort((weights, columns, rows))
    rows, columns, weights = rows[order], columns[order], weights[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (columns[1:] != columns[:-1])]
    return coo_matrix((weights[first], (rows[first], columns[first])), shape=(size, size)).tocsr()

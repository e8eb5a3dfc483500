"""A generated district's roads: the real main roads where the 3rd-ring file has them, synthetic
links between settlements elsewhere.

Synthetic roads follow how rural road networks grow: every settlement is joined to its neighbours
by a minimum spanning tree over the Delaunay triangulation of the settlement centres (secondary
roads between towns, tertiary ones to villages), settlements near the main-road network join its
nearest node, and every town and market town gets two residential cross streets through its
centre. Lines end at shared points, so the road loader builds one connected graph from them.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from gis_api.demo.city.settlement import MARKET_TOWN_HOUSEHOLDS, Settlements

MAIN_ROAD_JOIN_M = 5_000.0
"""A settlement this close to a main-road node is joined to it."""


def main_road_nodes(roads: NDArray[np.object_]) -> NDArray[np.float64]:
    """Start and end points of the main-road lines (the graph's nodes: the file is split at junctions)."""
    if len(roads) == 0:
        return np.empty((0, 2))
    starts = shapely.get_coordinates(shapely.get_point(roads, 0))
    ends = shapely.get_coordinates(shapely.get_point(roads, -1))
    return np.unique(np.round(np.vstack([starts, ends]), 3), axis=0)


def spanning_links(xy: NDArray[np.float64]) -> list[tuple[int, int]]:
    """Edges (i, j) of the Euclidean minimum spanning tree of the points."""
    if len(xy) < 2:
        return []
    if len(xy) == 2:
        return [(0, 1)]
    try:
        triangles = Delaunay(xy).simplices
    except QhullError:  # collinear points: a chain in x order is their spanning tree
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return [(int(a), int(b)) for a, b in itertools.pairwise(order.tolist())]
    pairs = np.vstack([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    length = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) + 1e-6
    tree = minimum_spanning_tree(coo_matrix((length, (pairs[:, 0], pairs[:, 1])), shape=(len(xy),) * 2))
    found = tree.tocoo()
    return sorted(zip(found.row.tolist(), found.col.tolist(), strict=True))


def settlement_roads(
    settlements: Settlements, main_roads: NDArray[np.object_], crs: object
) -> gpd.GeoDataFrame:
    """Synthetic lines (metric CRS) with road_class and name."""
    xy = np.column_stack([settlements.x, settlements.y])
    households = settlements.households
    lines: list[shapely.LineString] = []
    classes: list[str] = []
    for a, b in spanning_links(xy):
        lines.append(shapely.LineString([xy[a], xy[b]]))
        both_towns = min(households[a], households[b]) >= MARKET_TOWN_HOUSEHOLDS
        classes.append("secondary" if both_towns else "tertiary")
    nodes = main_road_nodes(main_roads)
    if len(nodes) and len(xy):
        distance, nearest = cKDTree(nodes).query(xy)
        for index in np.flatnonzero(distance <= MAIN_ROAD_JOIN_M).tolist():
            lines.append(shapely.LineString([xy[index], nodes[nearest[index]]]))
            classes.append("tertiary")
    for index in np.flatnonzero(households >= MARKET_TOWN_HOUSEHOLDS).tolist():
        centre, reach = xy[index], settlements.radius[index]
        for dx, dy in ((reach, 0.0), (-reach, 0.0), (0.0, reach), (0.0, -reach)):
            lines.append(shapely.LineString([centre, centre + np.array([dx, dy])]))
            classes.append("residential")
    return gpd.GeoDataFrame({"road_class": classes, "name": None}, geometry=lines, crs=crs)

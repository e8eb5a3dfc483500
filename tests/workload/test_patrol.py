"""Patrol effort on hand-made roads with answers worked out by hand."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis_api.routing.engine import RoadGraph
from gis_api.workload.patrol import candidate_legs, patrol_shares_m, tour_hours
from gis_api.workload.weights import PatrolWeights

CRS = "EPSG:32650"
X0, Y0 = 230_000.0, 3_380_000.0  # central Wuchang in UTM 50N
TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
WEIGHTS = PatrolWeights(tours_per_week=2.0, walk_speed_mps=1.2, shortcut_m=150.0, circuity=1.3)


def roads(*polylines: list[tuple[float, float]]) -> RoadGraph:
    """A graph of straight segments between consecutive vertices (metres from X0, Y0); shared
    vertices are shared nodes."""
    nodes: dict[tuple[float, float], int] = {}
    edges, lines = [], []
    for polyline in polylines:
        for a, b in pairwise(polyline):
            ids = [nodes.setdefault(p, len(nodes)) for p in (a, b)]
            edges.append(ids)
            lines.append(shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])]))
    length = shapely.length(np.asarray(lines, dtype=object))
    return RoadGraph(
        np.arange(1, len(nodes) + 1, dtype=np.int64),
        np.arange(1, len(edges) + 1, dtype=np.int64),
        np.asarray(edges, dtype=np.intp),
        length / 5.0,
        np.ones(len(edges), dtype=bool),
        np.asarray(lines, dtype=object),
        CRS,
    )


def lonlat(*points: tuple[float, float]) -> np.ndarray:
    xs, ys = zip(*((X0 + x, Y0 + y) for x, y in points), strict=True)
    return np.column_stack(TO_LONLAT.transform(xs, ys))


def test_buildings_along_one_road_share_the_tree_walked_twice() -> None:
    # a 1 km road in 200 m pieces; three buildings 10 m north of it, 200 m apart (> shortcut):
    # each leg walks 10 m to the road, 200 m along it, 10 m back up = 220 m; tree = 2 legs
    graph = roads([(x, 0.0) for x in range(0, 1001, 200)])
    shares = patrol_shares_m(graph, lonlat((100, 10), (300, 10), (500, 10)), WEIGHTS)
    assert shares == pytest.approx([110.0, 220.0, 110.0], abs=0.5)
    assert tour_hours(shares.sum(), WEIGHTS) == pytest.approx(2 * 440.0 / 1.2 / 3600, rel=1e-3)


def test_close_buildings_on_two_unjoined_roads_take_the_lane_between_them() -> None:
    # two parallel roads 100 m apart joined only at x = 0; buildings face each other at x = 500,
    # 10 m off their roads, 80 m apart: by road 10 + 500 + 100 + 500 + 10 = 1,120 m,
    # by the lane inside the block 1.3 × 80 = 104 m
    graph = roads([(500.0, 0.0), (0.0, 0.0), (0.0, 100.0), (500.0, 100.0)])
    points = lonlat((500, 10), (500, 90))
    assert patrol_shares_m(graph, points, WEIGHTS).sum() == pytest.approx(104.0, abs=0.5)
    by_road = PatrolWeights(2.0, 1.2, shortcut_m=0.0, circuity=1.3)
    assert patrol_shares_m(graph, points, by_road).sum() == pytest.approx(1120.0, abs=1.0)


def test_a_grid_of_buildings_is_one_tree_and_single_buildings_cost_nothing() -> None:
    graph = roads([(x, 0.0) for x in range(0, 1001, 100)])
    assert patrol_shares_m(graph, lonlat((100, 10)), WEIGHTS).tolist() == [0.0]
    # 4 buildings in a 50 m square next to the road: lanes 1.3 × 50 = 65 m, tree of 3 legs
    square = lonlat((100, 20), (150, 20), (100, 70), (150, 70))
    assert patrol_shares_m(graph, square, WEIGHTS).sum() == pytest.approx(3 * 65.0, abs=0.5)
    assert len(candidate_legs(np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]))) == 3  # collinear


def test_without_roads_buildings_are_walked_in_straight_lines() -> None:
    empty = RoadGraph(
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.intp),
        np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, dtype=object), CRS,
    )  # fmt: skip
    shares = patrol_shares_m(empty, lonlat((0, 0), (300, 0), (300, 400)), WEIGHTS)
    assert shares.sum() == pytest.approx(1.3 * (300 + 400), abs=0.5)

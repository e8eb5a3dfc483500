"""roads.network on hand-made lines: snapping, one-way rules, classes, components, shortest paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString

from gis_api.loaders.readers import read_features
from gis_api.loaders.road_attributes import attach_osm_attributes
from gis_api.loaders.road_lines import read_road_lines
from gis_api.roads.network import SPEED_KMH_BY_CLASS, RoadNetwork, build_network

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loaders"
GEOD = Geod(ellps="WGS84")
METRIC = "EPSG:4547"  # CGCS2000 3° Gauss-Krüger CM 114°E: what a Wuhan district gets by default


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return build_network(read_road_lines(FIXTURES / "roads.geojson"), metric_crs=METRIC)


def edge(network: RoadNetwork, start: tuple[float, float], end: tuple[float, float]) -> dict[str, Any]:
    """The edge whose endpoints are nearest to start/end (in either direction)."""
    edges = network.edges
    first = edges.geometry.apply(lambda line: line.coords[0])
    last = edges.geometry.apply(lambda line: line.coords[-1])
    gap = [
        min(np.hypot(*np.subtract(a, start)) + np.hypot(*np.subtract(b, end)),
            np.hypot(*np.subtract(a, end)) + np.hypot(*np.subtract(b, start)))
        for a, b in zip(first, last, strict=True)
    ]  # fmt: skip
    return dict(edges.iloc[int(np.argmin(gap))])


def test_nodes_edges_and_snapping(network: RoadNetwork) -> None:
    assert len(network.edges) == 9  # the construction way is not a road yet
    assert len(network.nodes) == 10  # A-F, G-H, and I-J, which stop 3 m short of D
    a_b = edge(network, (114.302, 30.542), (114.310, 30.542))
    b_c = edge(network, (114.310, 30.542), (114.318, 30.542))
    assert a_b["target"] == b_c["source"]  # 0.3 m apart: one node
    b_point = network.nodes.set_index("id").geometry[a_b["target"]]
    assert b_c["geometry"].coords[0] == (b_point.x, b_point.y)  # edge ends pinned to their node


def test_lengths_speeds_and_times(network: RoadNetwork) -> None:
    d_e = edge(network, (114.302, 30.550), (114.310, 30.550))
    geodesic_m = GEOD.inv(114.302, 30.550, 114.310, 30.550)[2]
    assert d_e["length_m"] == pytest.approx(geodesic_m, rel=0.002)  # UTM 50N scale error < 0.1 %
    assert d_e["road_class"] == "tertiary" and d_e["speed_kmh"] == SPEED_KMH_BY_CLASS["tertiary"]
    assert d_e["travel_time_s"] == pytest.approx(d_e["length_m"] / (30.0 / 3.6))
    assert d_e["cost"] == d_e["reverse_cost"] == d_e["travel_time_s"]
    link = edge(network, (114.318, 30.542), (114.318, 30.550))
    assert link["road_class"] == "secondary"  # secondary_link counts as its road


def test_one_way_rules(network: RoadNetwork) -> None:
    b_e = edge(network, (114.310, 30.542), (114.310, 30.550))
    assert b_e["oneway"] and b_e["reverse_cost"] == -1 and b_e["cost"] > 0
    assert b_e["geometry"].coords[0][1] < b_e["geometry"].coords[-1][1]  # drawn and driven north
    e_f = edge(network, (114.310, 30.550), (114.318, 30.550))
    assert e_f["oneway"] and e_f["reverse_cost"] == -1
    assert e_f["geometry"].coords[0][0] > e_f["geometry"].coords[-1][0]  # oneway=-1: reversed, F->E


def test_unknown_class_and_name_come_from_the_stroke(network: RoadNetwork) -> None:
    e_f = edge(network, (114.310, 30.550), (114.318, 30.550))
    assert (e_f["road_class"], e_f["name"]) == ("tertiary", "和平大道")  # straight on from D-E
    assert network.class_sources == {"input": 8, "stroke": 1, "stroke_length": 0}


def test_components(network: RoadNetwork) -> None:
    assert list(network.component_sizes()) == [6, 2, 2]
    assert network.largest_component_share == pytest.approx(0.6)
    main = network.nodes[network.nodes["component"] == 0]
    assert len(main) == 6


def test_shortest_times_match_networkx(network: RoadNetwork) -> None:
    graph = nx.DiGraph()
    for row in network.edges.itertuples():
        arcs = [(row.source, row.target, row.cost)]
        if row.reverse_cost >= 0:
            arcs.append((row.target, row.source, row.reverse_cost))
        for source, target, weight in arcs:
            if not graph.has_edge(source, target) or graph[source][target]["weight"] > weight:
                graph.add_edge(source, target, weight=weight)
    node_ids = list(network.nodes["id"])
    times = network.travel_times_s(node_ids)
    for i, source in enumerate(node_ids):
        expected = nx.single_source_dijkstra_path_length(graph, source) if source in graph else {}
        for j, target in enumerate(node_ids):
            assert times[i, j] == pytest.approx(expected.get(target, np.inf))
    # the one-way street makes E -> B a detour through D and A, B -> E direct
    b_e = edge(network, (114.310, 30.542), (114.310, 30.550))
    forward = times[node_ids.index(b_e["source"]), node_ids.index(b_e["target"])]
    backward = times[node_ids.index(b_e["target"]), node_ids.index(b_e["source"])]
    assert forward == pytest.approx(b_e["travel_time_s"]) and backward > 1.5 * forward


def test_stroke_length_decides_when_nothing_is_known() -> None:
    """A 5 km straight avenue split by side streets is an arterial; the side streets are not."""
    avenue = [
        LineString([(114.30 + k * 0.0104, 30.55), (114.30 + (k + 1) * 0.0104, 30.55)]) for k in range(5)
    ]
    side = [LineString([(114.30 + k * 0.0104, 30.55), (114.30 + k * 0.0104, 30.553)]) for k in range(1, 5)]
    lines = gpd.GeoDataFrame(geometry=avenue + side, crs="EPSG:4326")
    network = build_network(lines, metric_crs=METRIC)
    classes = list(network.edges["road_class"])
    assert classes[:5] == ["primary"] * 5 and classes[5:] == ["tertiary"] * 4
    assert network.class_sources == {"input": 0, "stroke": 0, "stroke_length": 9}


def test_osm_attributes_attach_by_nearness_and_direction() -> None:
    lines = read_road_lines(FIXTURES / "roads_geometry_only.geojson")
    reference = read_features(FIXTURES / "roads_osm_reference.geojson")
    attached, summary = attach_osm_attributes(lines, reference, metric_crs=METRIC)
    assert summary.matched == 2 and summary.lines == 5
    names = [None if pd.isna(name) else name for name in attached["name"]]
    assert names[:3] == ["中山路", None, "和平大道"]  # not the parallel footway
    network = build_network(attached, metric_crs=METRIC)
    b_c = edge(network, (114.310, 30.542), (114.318, 30.542))
    assert (b_c["road_class"], b_c["name"]) == ("primary", "中山路")  # by stroke, from A-B
    e_f = edge(network, (114.310, 30.550), (114.318, 30.550))
    assert (e_f["road_class"], e_f["name"]) == ("trunk", "和平大道")
    b_e = edge(network, (114.310, 30.542), (114.310, 30.550))
    assert b_e["road_class"] == "tertiary" and pd.isna(b_e["name"])  # an 890 m stroke of its own
    assert network.class_sources == {"input": 2, "stroke": 2, "stroke_length": 1}


def test_osm_xml_through_osmnx() -> None:
    lines = read_road_lines(FIXTURES / "roads.osm")
    network = build_network(lines, metric_crs=METRIC)
    by_class = network.edges.groupby("road_class").size().to_dict()
    assert by_class == {"primary": 2, "tertiary": 2, "residential": 2, "secondary": 2}
    assert len(network.nodes) == 7
    one_way = network.edges[network.edges["oneway"]]
    assert sorted(one_way["road_class"]) == ["residential", "residential", "secondary"]
    secondary = one_way[one_way["road_class"] == "secondary"].iloc[0]
    assert secondary.geometry.coords[0][1] < secondary.geometry.coords[-1][1]  # oneway=-1: C->F

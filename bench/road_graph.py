"""Benchmark: build the Wuchang road graph from WHroad and route on it three ways, side by side.

Starts the embedded PostGIS cluster itself and uses a throwaway database. Times the build
(read, clip, attach OSM names, snap, classify) and the whole load (build + store), then the same single-source
shortest-path queries with scipy (our in-memory graph), networkx and pgRouting's pgr_dijkstra,
checking that all three agree. Prints a table and, as the last line, a JSON object of figures.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pyogrio
from sqlalchemy import Connection, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.common import Machine
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.loaders.readers import read_features
from gis_api.loaders.service import load_boundaries
from gis_api.roads.network import RoadNetwork
from gis_api.roads.service import build_road_network, load_roads

DATABASE = "wangge_bench_roads"
QUERIES = 50
PGR_ONE_TO_ALL = """
    SELECT end_vid, agg_cost FROM pgr_dijkstra(
        'SELECT id, source, target, cost, reverse_cost FROM road_edge', :start, :targets, directed => true)
    WHERE edge = -1"""


def main() -> int:
    machine = Machine()
    data = get_settings().data_dir
    road_file, reference = data / "whroad_wuchang_1km.shp", data / "osm_roads_l7_wuchang_1km.geojson"
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    cluster.drop_database(DATABASE)
    engine = create_engine(cluster.create_database(DATABASE))
    migrate.upgrade(engine)
    try:
        with engine.begin() as connection:
            load_district(connection, data / "wuchang_district_osm_r3076297.geojson")
            started = time.perf_counter()
            network, _ = build_road_network(connection, road_file, attributes_from=reference)
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            report = load_roads(connection, road_file, attributes_from=reference)
            load_s = time.perf_counter() - started
            figures = route_three_ways(connection, network)
    finally:
        engine.dispose()
        cluster.drop_database(DATABASE)
    figures = {
        "build_s": round(build_s, 3),
        "load_s": round(load_s, 3),
        "nodes": report.nodes,
        "edges": report.edges,
        "km": round(report.km, 1),
        "largest_component_share": round(report.largest_component_share, 4),
        **figures,
    }
    print(report)
    print(f"\n{machine.header()}")
    print(f"{'figure':<28}{'value':>14}")
    for key, value in figures.items():
        print(f"{key:<28}{value:>14}")
    print(json.dumps({**figures, **machine.figures()}))
    return 0


def load_district(connection: Connection, outline_file: Path) -> None:
    outline = read_features(outline_file)[["name", "geometry"]].assign(code="420106")
    staged = Path(get_settings().var_dir) / "bench_district.geojson"
    pyogrio.write_dataframe(outline, staged)
    load_boundaries(connection, staged, level="district", city_name="武汉市")
    staged.unlink()


def route_three_ways(connection: Connection, network: RoadNetwork) -> dict[str, float]:
    """ms per one-to-all query (to every node of the main component) for each engine."""
    main = network.nodes.loc[network.nodes["component"] == 0, "id"].to_numpy()
    starts = np.random.default_rng(42).choice(main, size=QUERIES, replace=False).tolist()
    started = time.perf_counter()
    scipy_times = network.travel_times_s(starts)
    scipy_ms = (time.perf_counter() - started) * 1000 / QUERIES
    graph = networkx_graph(network)
    started = time.perf_counter()
    networkx_times = [nx.single_source_dijkstra_path_length(graph, start) for start in starts]
    networkx_ms = (time.perf_counter() - started) * 1000 / QUERIES
    targets = main.tolist()
    started = time.perf_counter()
    pgr_times: list[dict[int, float]] = [
        dict(connection.execute(text(PGR_ONE_TO_ALL), {"start": start, "targets": targets}).all())
        for start in starts
    ]
    pgr_ms = (time.perf_counter() - started) * 1000 / QUERIES
    worst = max(
        abs(scipy_times[i, target - 1] - other[target])
        for i in range(QUERIES)
        for other in (networkx_times[i], pgr_times[i])
        for target in targets
        if target != starts[i]
    )
    return {
        "scipy_ms_per_query": round(scipy_ms, 3),
        "networkx_ms_per_query": round(networkx_ms, 3),
        "pgrouting_ms_per_query": round(pgr_ms, 3),
        "max_disagreement_s": float(f"{worst:.2e}"),
    }


def networkx_graph(network: RoadNetwork) -> nx.DiGraph:
    graph = nx.DiGraph()
    for row in network.edges.itertuples():
        arcs = [(row.source, row.target, row.cost)]
        if row.reverse_cost >= 0:
            arcs.append((row.target, row.source, row.reverse_cost))
        for source, target, weight in arcs:
            if not graph.has_edge(source, target) or graph[source][target]["weight"] > weight:
                graph.add_edge(source, target, weight=weight)
    return graph


if __name__ == "__main__":
    sys.exit(main())

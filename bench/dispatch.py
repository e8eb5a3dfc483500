"""Benchmark: dispatch decisions (locate + rank every candidate by road) on a Wuchang-sized graph.

For each random incident: locate the grid (SQL, as dispatch_case does), then ONE reverse Dijkstra
(gis_api.routing.engine) ranks all ~1,500 team members by road travel time. Side by side:
  - networkx: one shortest-path query per candidate (what a naive dispatcher does),
  - networkx: one reverse single-source search (the fair networkx equivalent of our method),
  - pgRouting pgr_dijkstraCost many-to-one on the same rows (travel times must agree within 0.5 %).

Starts the embedded PostGIS cluster itself, in a throwaway database. Uses the road network already
loaded into the main database (`wangge load roads`) when there is one; otherwise a synthetic street
lattice of Wuchang's size (~1,450 nodes, ~2,500 road segments over ~10 x 10 km, road classes with
speeds, one-way residential streets). The output says which. Last line: a JSON object of the figures.
Targets: p95 <= 5 ms, >= 20x faster than networkx per-candidate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import networkx as nx
import numpy as np
from pyproj import Transformer
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from gis_api.cases.service import Position, locate_grid
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.routing.engine import PGR_EDGES_SQL, RoadGraph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.district_rows import CODE, add_bench_district, claim_rows, create_plan

DATABASE = "wangge_bench_dispatch"
BBOX = (114.27, 30.50, 114.38, 30.60)  # central Wuchang, about 10.5 x 11 km
LATTICE = 38
SPEED_KMH = {"primary": 40.0, "secondary": 30.0, "residential": 20.0}
TARGET_P95_MS = 5.0
TARGET_SPEEDUP = 20.0


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def lattice_rows(rng: np.random.Generator) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Jittered street lattice with arterials every 6th line, 10 % of blocks missing, one-way lanes."""
    lons = np.linspace(BBOX[0], BBOX[2], LATTICE)
    lats = np.linspace(BBOX[1], BBOX[3], LATTICE)
    jitter = 0.0004
    nodes: list[dict[str, object]] = []
    node_id: dict[tuple[int, int], int] = {}
    for i, lat in enumerate(lats):
        for j, lon in enumerate(lons):
            node_id[(i, j)] = len(nodes) + 1
            nodes.append(
                {
                    "i": len(nodes) + 1,
                    "x": float(lon + rng.uniform(-jitter, jitter)),
                    "y": float(lat + rng.uniform(-jitter, jitter)),
                }
            )
    edges: list[dict[str, object]] = []
    for (i, j), source in node_id.items():
        for di, dj in ((0, 1), (1, 0)):
            target = node_id.get((i + di, j + dj))
            line = i if di == 0 else j
            road_class = "primary" if line % 6 == 0 else "secondary" if line % 3 == 0 else "residential"
            if target is None or (road_class == "residential" and rng.random() < 0.12):
                continue
            oneway = bool(road_class == "residential" and rng.random() < 0.25)
            edges.append(
                {
                    "i": len(edges) + 1,
                    "s": source,
                    "t": target,
                    "c": road_class,
                    "o": oneway,
                    "v": SPEED_KMH[road_class],
                }
            )
    return nodes, edges


def build_synthetic_roads(connection: Connection, rng: np.random.Generator) -> str:
    nodes, edges = lattice_rows(rng)
    connection.execute(
        text("INSERT INTO road_node (id, geom) VALUES (:i, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), nodes
    )
    connection.execute(
        text(
            "INSERT INTO road_edge (id, source, target, road_class, oneway, length_m, speed_kmh, "
            "travel_time_s, cost, reverse_cost, geom) SELECT :i, :s, :t, :c, :o, 0, :v, 0, 0, 0, "
            "ST_MakeLine(a.geom, b.geom) FROM road_node a, road_node b WHERE a.id = :s AND b.id = :t"
        ),
        edges,
    )
    connection.execute(
        text(
            "UPDATE road_edge SET length_m = ST_Length(geom::geography), "
            "travel_time_s = ST_Length(geom::geography) / (speed_kmh / 3.6)"
        )
    )
    connection.execute(
        text(
            "UPDATE road_edge SET cost = travel_time_s, "
            "reverse_cost = CASE WHEN oneway THEN -1 ELSE travel_time_s END"
        )
    )
    return f"synthetic lattice ({len(nodes):,} nodes, {len(edges):,} segments)"


def copy_main_roads(connection: Connection, main_url: str) -> str | None:
    """Copy road_node/road_edge from the main database when its road network has been loaded."""
    main = create_engine(main_url)
    try:
        with main.connect() as source:
            count = source.scalar(text("SELECT count(*) FROM road_edge"))
            if not count:
                return None
            nodes = [
                dict(r._mapping) for r in source.execute(text("SELECT id, component, geom FROM road_node"))
            ]
            edges = [
                dict(r._mapping) | {"district_code": CODE}
                for r in source.execute(text("SELECT * FROM road_edge"))
            ]
    except Exception as error:  # no main database or no roads table: fall back
        log(f"main database has no usable road network ({type(error).__name__})")
        return None
    finally:
        main.dispose()
    connection.execute(
        text("INSERT INTO road_node (id, component, geom) VALUES (:id, :component, :geom)"), nodes
    )
    columns = ", ".join(edges[0])
    values = ", ".join(f":{c}" for c in edges[0])
    connection.execute(text(f"INSERT INTO road_edge ({columns}) VALUES ({values})"), edges)
    return f"Wuchang road network from the main database ({len(nodes):,} nodes, {len(edges):,} segments)"


def build_areas(connection: Connection) -> None:
    """2 x 2 streets, 3 x 3 communities each, 2 x 2 grids each (144 grids) over the bbox."""

    def box(x0: float, y0: float, x1: float, y1: float) -> str:
        return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"

    run = connection.execute
    add_bench_district(connection, box(*BBOX))
    plan = create_plan(connection)
    xs, ys = np.linspace(BBOX[0], BBOX[2], 13), np.linspace(BBOX[1], BBOX[3], 13)
    for s in range(4):
        street = f"420106{s + 1:03d}"
        sx, sy = (s % 2) * 6, (s // 2) * 6
        run(
            text("INSERT INTO street VALUES (:c, :n, '420106', :g)"),
            {"c": street, "n": f"街道{s + 1}", "g": box(xs[sx], ys[sy], xs[sx + 6], ys[sy + 6])},
        )
        for c in range(9):
            cx, cy = sx + (c % 3) * 2, sy + (c // 3) * 2
            community = f"{street}{c + 1:03d}"
            community_id = run(
                text(
                    "INSERT INTO community (plan_id, code, name, street_code, geom) "
                    "VALUES (:p, :c, :n, :s, :g) RETURNING id"
                ),
                {
                    "p": plan,
                    "c": community,
                    "n": f"社区{c + 1}",
                    "s": street,
                    "g": box(xs[cx], ys[cy], xs[cx + 2], ys[cy + 2]),
                },
            ).scalar_one()
            for g in range(4):
                gx, gy = cx + g % 2, cy + g // 2
                run(
                    text(
                        "INSERT INTO grid (plan_id, code, name, community_id, geom) "
                        "VALUES (:p, :c, :n, :ci, :g)"
                    ),
                    {
                        "p": plan,
                        "c": f"{community}{g + 1:02d}",
                        "n": f"网格{g + 1}",
                        "ci": community_id,
                        "g": box(xs[gx], ys[gy], xs[gx + 1], ys[gy + 1]),
                    },
                )


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1000, q))


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def networkx_graph(graph: RoadGraph) -> nx.DiGraph:
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(graph.node_count))
    for (source, target), seconds, two_way in zip(
        graph.edge_nodes, graph.travel_time_s, graph.two_way, strict=True
    ):
        for u, v in ((source, target), (target, source)) if two_way else ((source, target),):
            if u != v and (not digraph.has_edge(u, v) or digraph[u][v]["t"] > seconds):
                digraph.add_edge(int(u), int(v), t=float(seconds))
    return digraph


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=400)
    parser.add_argument("--members", type=int, default=1500)
    parser.add_argument("--networkx-incidents", type=int, default=5)
    parser.add_argument("--pgrouting-incidents", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    cluster = EmbeddedCluster(get_settings().var_dir)
    main_url = cluster.ensure_running()
    cluster.drop_database(DATABASE)
    engine = create_engine(cluster.create_database(DATABASE))
    try:
        run(engine, main_url, rng, args)
    finally:
        engine.dispose()
        cluster.drop_database(DATABASE)


def run(engine: Engine, main_url: str, rng: np.random.Generator, args: argparse.Namespace) -> None:
    migrate.upgrade(engine)
    with engine.begin() as connection:
        build_areas(connection)
        source = copy_main_roads(connection, main_url) or build_synthetic_roads(connection, rng)
        claim_rows(connection)
    log(f"road graph: {source}")
    with engine.connect() as connection:
        start = time.perf_counter()
        graph = RoadGraph.from_connection(connection)
        load_s = time.perf_counter() - start
    log(f"graph loaded into arrays in {load_s * 1000:.0f} ms")
    lon0, lat0, lon1, lat1 = BBOX
    members = np.column_stack([rng.uniform(lon0, lon1, args.members), rng.uniform(lat0, lat1, args.members)])
    margin = 0.002
    incidents = np.column_stack(
        [
            rng.uniform(lon0 + margin, lon1 - margin, args.incidents),
            rng.uniform(lat0 + margin, lat1 - margin, args.incidents),
        ]
    )

    member_ids = list(range(1, args.members + 1))  # snapped once, on first use, as in dispatch_case
    ours, rank_only = [], []
    with Session(engine) as session:
        for k, (lon, lat) in enumerate(incidents):
            start = time.perf_counter()
            locate_grid(session, Position(float(lon), float(lat)))
            located = time.perf_counter()
            graph.rank_candidates((lon, lat), members, member_ids=member_ids)
            done = time.perf_counter()
            ours.append(done - start)
            rank_only.append(done - located)
            if (k + 1) % 100 == 0:
                log(
                    f"{k + 1}/{args.incidents} dispatch decisions, "
                    f"p50 so far {percentile_ms(ours, 50):.2f} ms"
                )

    member_nodes = nearest_nodes(graph, members)
    digraph = networkx_graph(graph)
    per_candidate, single_search = [], []
    for k in range(args.networkx_incidents):
        target = int(nearest_nodes(graph, incidents[k : k + 1])[0])
        per_candidate.append(timed(partial(nx_per_candidate, digraph, member_nodes, target)))
        reverse = digraph.reverse(copy=False)
        single_search.append(
            timed(partial(nx.single_source_dijkstra_path_length, reverse, target, weight="t"))
        )
        log(f"networkx incident {k + 1}/{args.networkx_incidents}: per-candidate {per_candidate[-1]:.2f} s")

    worst, pgr_times, compared = compare_pgrouting(engine, graph, digraph, incidents, member_nodes, args)
    report(
        graph, source, load_s, ours, rank_only, per_candidate, single_search, pgr_times, worst, compared, args
    )


def nx_per_candidate(digraph: nx.DiGraph, sources: np.ndarray, target: int) -> list[float]:
    return [nx_time(digraph, int(source), target) for source in sources]


def nx_time(digraph: nx.DiGraph, source: int, target: int) -> float:
    try:
        return float(nx.dijkstra_path_length(digraph, source, target, weight="t"))
    except nx.NetworkXNoPath:
        return float("inf")


def nearest_nodes(graph: RoadGraph, lonlat: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    to_metric = Transformer.from_crs("EPSG:4326", graph.metric_crs, always_xy=True)
    node_xy = np.column_stack(to_metric.transform(*graph_node_lonlat(graph).T))
    xy = np.column_stack(to_metric.transform(lonlat[:, 0], lonlat[:, 1]))
    return cKDTree(node_xy).query(xy)[1]


def graph_node_lonlat(graph: RoadGraph) -> np.ndarray:
    """Node coordinates from the edge geometry ends (the graph keeps geometry, not node points)."""
    lonlat = np.zeros((graph.node_count, 2))
    import shapely

    starts = shapely.get_coordinates(shapely.get_point(graph.lines, 0))
    ends = shapely.get_coordinates(shapely.get_point(graph.lines, -1))
    metric = np.zeros((graph.node_count, 2))
    metric[graph.edge_nodes[:, 0]] = starts
    metric[graph.edge_nodes[:, 1]] = ends
    lonlat[:, 0], lonlat[:, 1] = graph.to_lonlat.transform(metric[:, 0], metric[:, 1])
    return lonlat


def compare_pgrouting(
    engine: Engine,
    graph: RoadGraph,
    digraph: nx.DiGraph,
    incidents: np.ndarray,
    member_nodes: np.ndarray,
    args: argparse.Namespace,
) -> tuple[float, list[float], int]:
    """Max relative difference of node-to-incident-node times: ours vs pgr_dijkstraCost and networkx."""
    worst, timings, compared = 0.0, [], 0
    sources = sorted({int(graph.node_ids[n]) for n in member_nodes})
    with engine.connect() as connection:
        for k in range(args.pgrouting_incidents):
            target_index = int(nearest_nodes(graph, incidents[k : k + 1])[0])
            start = time.perf_counter()
            rows = connection.execute(
                text(
                    "SELECT start_vid, agg_cost FROM pgr_dijkstraCost(:sql, CAST(:s AS bigint[]), :t, true)"
                ),
                {"sql": PGR_EDGES_SQL, "s": sources, "t": int(graph.node_ids[target_index])},
            ).all()
            timings.append(time.perf_counter() - start)
            ours = graph.times_to_node(target_index)
            index_of = {int(node): i for i, node in enumerate(graph.node_ids)}
            theirs = {index_of[int(s)]: float(c) for s, c in rows}
            reference = nx.single_source_dijkstra_path_length(
                digraph.reverse(copy=False), target_index, weight="t"
            )
            for node, cost in theirs.items():
                worst = max(worst, abs(ours[node] - cost) / max(cost, 1e-9))
                worst = max(worst, abs(reference[node] - cost) / max(cost, 1e-9))
                compared += 1
            unreachable_ours = (
                {i for i in index_of.values() if np.isfinite(ours[i])} - set(theirs) - {target_index}
            )
            if unreachable_ours & {int(n) for n in member_nodes}:
                worst = float("inf")  # we reach a node pgRouting cannot: a disagreement
    return worst, timings, compared


def report(
    graph: RoadGraph,
    source: str,
    load_s: float,
    ours: list[float],
    rank_only: list[float],
    per_candidate: list[float],
    single_search: list[float],
    pgr_times: list[float],
    worst: float,
    compared: int,
    args: argparse.Namespace,
) -> None:
    p50, p95 = percentile_ms(ours, 50), percentile_ms(ours, 95)
    nx_p50 = percentile_ms(per_candidate, 50)
    rows = [
        ("ours: locate (SQL) + rank all by road", p50, p95),
        (
            "ours: rank all by road (one reverse search)",
            percentile_ms(rank_only, 50),
            percentile_ms(rank_only, 95),
        ),
        ("networkx: one shortest path per candidate", nx_p50, percentile_ms(per_candidate, 95)),
        ("networkx: one reverse search", percentile_ms(single_search, 50), percentile_ms(single_search, 95)),
        (
            "pgRouting: pgr_dijkstraCost many-to-one",
            percentile_ms(pgr_times, 50),
            percentile_ms(pgr_times, 95),
        ),
    ]
    print()
    print(
        f"graph: {source}; {graph.node_count:,} nodes; {args.members:,} candidates per incident; "
        f"{args.incidents} incidents; arrays loaded in {load_s * 1000:.0f} ms"
    )
    print(f"{'method':<46} {'p50 ms':>10} {'p95 ms':>10}")
    for name, a, b in rows:
        print(f"{name:<46} {a:>10.2f} {b:>10.2f}")
    speedup = nx_p50 / p50
    print(
        f"speed-up vs networkx per-candidate: {speedup:,.0f}x (target >= {TARGET_SPEEDUP:.0f}x); "
        f"p95 {p95:.2f} ms (target <= {TARGET_P95_MS} ms)"
    )
    print(
        f"pgRouting agreement: max relative difference {worst:.2e} over {compared:,} node pairs (limit 5e-3)"
    )
    figures = {
        "p50_ms": round(p50, 3),
        "p95_ms": round(p95, 3),
        "networkx_p50_ms": round(nx_p50, 1),
        "speedup_vs_networkx": round(speedup, 1),
        "pgrouting_max_rel_diff": worst,
        "rank_only_p50_ms": round(percentile_ms(rank_only, 50), 3),
        "networkx_single_search_p50_ms": round(percentile_ms(single_search, 50), 2),
        "pgrouting_p50_ms": round(percentile_ms(pgr_times, 50), 2),
        "nodes": graph.node_count,
        "edges": len(graph.edge_ids),
        "members": args.members,
        "graph": "synthetic" if source.startswith("synthetic") else "wuchang",
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

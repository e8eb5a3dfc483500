"""Benchmark: redistrict the whole Wuchang demo (communities, then grids) and compare with peers.

Starts the embedded PostGIS cluster, loads the demo into its own database (once; reused on later
runs), times the whole `redistrict` job (units, optimisation, polygons, storing the draft), then
runs pymetis (nested k-way), GerryChain (recursive_tree_part + ReCom) and spopt (MaxPHeuristic)
on the same units and targets. Prints a table and, last, a JSON object of the figures.

    .venv/bin/python bench/redistrict.py [--recom-steps 1000] [--spopt-street 420106011] [--skip-peers]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.redistrict_peers import _metis  # sibling benchmark's plain METIS call
from boundaries.graph import UnitGraph
from boundaries.metrics import plan_metrics
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.load import load_demo
from gis_api.redistrict import service
from gis_api.redistrict.inputs import read_inputs
from gis_api.redistrict.units import UnitSet, build_units

DATABASE = "wangge_bench_redistrict"
OFFICIAL = get_settings().data_dir / "nbs2023_communities.csv"
START = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:6.1f}s] {message}", file=sys.stderr, flush=True)


def demo_engine() -> Any:
    """The bench database with the demo loaded (loaded on first use)."""
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    engine = create_engine(cluster.create_database(DATABASE, exist_ok=True))
    migrate.upgrade(engine)
    load_demo(engine, seed=get_settings().demo_seed, progress=log)
    with engine.begin() as connection:  # each run starts from the demo's own old plan
        connection.execute(text("DELETE FROM plan WHERE status = 'draft'"))
    return engine


def level_figures(graph: UnitGraph, households: np.ndarray, labels: np.ndarray, parents: np.ndarray) -> dict:
    """dev_max against each parent's mean, Polsby-Popper, barrier crossings, contiguity."""
    k = int(labels.max()) + 1
    totals = np.bincount(labels, households, minlength=k)
    parent_of = np.zeros(k, dtype=np.int64)
    parent_of[labels] = parents
    mean = (np.bincount(parent_of, totals) / np.bincount(parent_of))[parent_of]
    metrics = plan_metrics(graph, households, labels, k, mean)
    return {"districts": k, "dev_max": round(metrics.dev_max, 4), "pp_mean": round(metrics.pp_mean, 4),
            "barrier_crossings": metrics.barrier_crossings, "contiguous": metrics.contiguous}  # fmt: skip


def street_index(units: UnitSet) -> tuple[np.ndarray, list[str]]:
    codes = units.units["street_code"].to_numpy()
    keys = sorted(set(codes))
    return np.searchsorted(keys, codes), keys


def run_metis(units: UnitSet, counts: dict[str, int]) -> tuple[dict, float]:
    """Nested pymetis: each street into its official number of communities, each into grids."""
    households = units.units["households"].to_numpy().astype(np.int64)
    streets, keys = street_index(units)
    started = time.perf_counter()
    labels, offset = np.zeros(units.graph.n, dtype=np.int64), 0
    for s, key in enumerate(keys):
        members = np.flatnonzero(streets == s)
        labels[members] = _metis(units.graph.subgraph(members), households[members], counts[key]) + offset
        offset += counts[key]
    wall = time.perf_counter() - started
    return level_figures(units.graph, households.astype(float), labels, streets), wall


def tree_seed(
    graph: Any, k: int, ideal: float, rng: random.Random, failures: list[str], key: str
) -> tuple[dict, float]:
    """recursive_tree_part at ±5 %, widening to ±10 % / ±20 % where lumpy units allow no balanced cut."""
    from gerrychain.partition import recursive_tree_part

    if k == 1:
        return dict.fromkeys(graph, 0), 0.05
    for epsilon in (0.05, 0.10, 0.20):
        try:
            return recursive_tree_part(graph, range(k), ideal, "hh", epsilon, rng=rng), epsilon
        except RuntimeError:
            failures.append(f"{key}: no balanced tree cut at ±{epsilon:.0%}")
    raise RuntimeError(f"GerryChain found no seed plan for street {key} even at ±20 %")


def run_gerrychain(
    units: UnitSet, counts: dict[str, int], steps: int, seed: int, failures: list[str]
) -> tuple[dict, float]:
    """recursive_tree_part seed + ReCom steps per street (steps shared out by street size)."""
    from functools import partial

    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition, accept, constraints
    from gerrychain.proposals import recom
    from gerrychain.updaters import Tally

    households = units.units["households"].to_numpy().astype(float)
    streets, keys = street_index(units)
    rng = random.Random(seed)
    started = time.perf_counter()
    labels, offset = np.zeros(units.graph.n, dtype=np.int64), 0
    for s, key in enumerate(keys):
        members = np.flatnonzero(streets == s)
        sub = units.graph.subgraph(members)
        nx_graph = nx.Graph()
        nx_graph.add_nodes_from(range(sub.n))
        upper = sub.src < sub.indices
        nx_graph.add_edges_from(zip(sub.src[upper].tolist(), sub.indices[upper].tolist(), strict=True))
        nx.set_node_attributes(nx_graph, dict(enumerate(households[members].tolist())), "hh")
        graph, k = Graph.from_networkx(nx_graph), counts[key]
        ideal = households[members].sum() / k
        start, epsilon = tree_seed(graph, k, ideal, rng, failures, key)
        plan = Partition(graph, start, updaters={"hh": Tally("hh", alias="hh")})
        if k > 1:
            proposal = partial(recom, pop_col="hh", pop_target=ideal, epsilon=epsilon, rng=rng)
            valid = [constraints.within_percent_of_ideal_population(plan, epsilon, "hh")]
            street_steps = max(1, steps * len(members) // units.graph.n)
            for state in MarkovChain(proposal, valid, accept.always_accept, plan, street_steps, rng=rng):
                final = state
            plan = final
        labels[members] = np.array([plan.assignment[i] for i in range(sub.n)]) + offset
        offset += k
        log(f"gerrychain: street {key} done")
    wall = time.perf_counter() - started
    return level_figures(units.graph, households, labels, streets), wall


def run_spopt(units: UnitSet, street: str, target: float) -> tuple[dict, float]:
    """spopt MaxPHeuristic on one street with a household floor of target × 0.95."""
    import geopandas as gpd
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    members = np.flatnonzero(units.units["street_code"].to_numpy() == street)
    sub = units.graph.subgraph(members)
    households = units.units["households"].to_numpy().astype(float)[members]
    frame = gpd.GeoDataFrame(
        {"hh": households, "attr": households}, geometry=units.units.geometry.to_numpy()[members]
    )
    weights = W({i: sub.neighbours(i).tolist() for i in range(sub.n)}, silence_warnings=True)
    model = MaxPHeuristic(frame, weights, ["attr"], "hh", target * 0.95, max_iterations_construction=5,
                          max_iterations_sa=1)  # fmt: skip
    started = time.perf_counter()
    np.random.seed(0)  # spopt draws from numpy's global generator and takes no rng
    model.solve()
    wall = time.perf_counter() - started
    labels = np.unique(np.asarray(model.labels_), return_inverse=True)[1].astype(np.int64)
    return level_figures(sub, households, labels, np.zeros(sub.n, dtype=np.int64)), wall


def run_ours_street(units: UnitSet, street: str, k: int, seed: int) -> tuple[dict, float]:
    """Our single-level search on the street spopt gets, for a like-for-like time and quality."""
    from boundaries.partition import partition

    members = np.flatnonzero(units.units["street_code"].to_numpy() == street)
    sub = units.graph.subgraph(members)
    households = units.units["households"].to_numpy().astype(float)[members]
    started = time.perf_counter()
    result = partition(sub, households, k, None, 0.05, np.random.default_rng(seed))
    wall = time.perf_counter() - started
    return level_figures(sub, households, result.assignment, np.zeros(sub.n, dtype=np.int64)), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recom-steps", type=int, default=1000)
    parser.add_argument("--spopt-street", default="420106001", help="street for spopt (one street only)")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    engine = demo_engine()
    options = service.RedistrictOptions(official_codes=OFFICIAL, name="bench")
    log("ours: the whole redistrict command (units, communities, grids, polygons, store)")
    started = time.perf_counter()
    report = service.redistrict(engine, options, progress=log)
    wall = time.perf_counter() - started
    community, grid = report.metrics["communities"], report.metrics["grids"]
    ours = {"wall_s": round(wall, 2), "dev_max": round(community["dev_max"], 4),
            "pp_mean": round(community["pp_mean"], 4), "barrier_crossings": community["barrier_crossings"],
            "contiguous": community["contiguous"]}  # fmt: skip
    peers: dict[str, dict] = {}
    street_ours: dict | None = None
    if not args.skip_peers:
        official = service.read_official(OFFICIAL)
        counts = official.groupby("street_code").size().to_dict()
        with engine.connect() as connection:
            units = build_units(read_inputs(connection, "420106", "EPSG:32650", official), 60, log)
        log("pymetis")
        figures, seconds = run_metis(units, counts)
        peers["pymetis"] = {"scope": "district", "wall_s": round(seconds, 2), **figures}
        log(f"gerrychain: {args.recom_steps} ReCom steps")
        failures: list[str] = []
        figures, seconds = run_gerrychain(units, counts, args.recom_steps, 1, failures)
        peers["gerrychain"] = {"scope": "district", "wall_s": round(seconds, 2), **figures, "notes": failures}
        log(f"spopt: street {args.spopt_street}")
        figures, seconds = run_spopt(units, args.spopt_street, 3000.0)
        peers["spopt"] = {"scope": f"street {args.spopt_street}", "wall_s": round(seconds, 2), **figures}
        figures, seconds = run_ours_street(units, args.spopt_street, counts[args.spopt_street], 1)
        street_ours = {"scope": f"street {args.spopt_street}", "wall_s": round(seconds, 2), **figures}
    print_table(ours, peers, street_ours)
    print(json.dumps({
        **{k: ours[k] for k in ("wall_s", "pp_mean", "barrier_crossings", "contiguous")},
        "communities": community["districts"], "grids": grid["districts"],
        "community_dev_max": ours["dev_max"],
        "grid_share_within_10pct": round(grid["share_within_10pct"], 4),
        "grid_dev_max": round(grid["dev_max"], 4),
        "timings_s": {k: round(v, 2) for k, v in report.timings_s.items()},
        "peers": peers,
        "ours_on_spopt_street": street_ours,
    }, ensure_ascii=False))  # fmt: skip
    return 0


def print_table(ours: dict, peers: dict[str, dict], street_ours: dict | None) -> None:
    columns = ("wall_s", "dev_max", "pp_mean", "barrier", "contig")
    print(f"\n{'method':<11} {'scope':<18} " + " ".join(f"{c:>8}" for c in columns))
    rows = {"ours": {"scope": "district", **ours}, **peers}
    if street_ours is not None:
        rows["ours (street)"] = street_ours
    for name, row in rows.items():
        print(f"{name:<11} {row['scope']:<18} {row['wall_s']:>7.2f} {row['dev_max']:>8.4f} "
              f"{row['pp_mean']:>8.4f} {row['barrier_crossings']:>8} {row['contiguous']!s:>7}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

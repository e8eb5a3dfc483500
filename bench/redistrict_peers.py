"""Lattice benchmark: our redistricting optimiser vs pymetis, GerryChain and spopt on the same units.

A 120 x 120 lattice (14,400 units, ~430k households clustered like a city, with a river, two
major roads and a railway as barriers) is nested into 144 communities x ~10 grids. Prints
progress, a table, and a JSON object of the figures as its last line.

    .venv/bin/python bench/redistrict_peers.py [--seed 1] [--recom-steps 1000] [--skip-peers]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pymetis
from numpy.typing import NDArray

from boundaries.dissolve import dissolve
from boundaries.executor import ProcessExecutor
from boundaries.graph import UnitGraph
from boundaries.metrics import PlanMetrics, plan_metrics
from boundaries.partition import LevelOptions, partition, partition_hierarchy
from boundaries.synthetic import CityLattice, city_lattice

ROWS = COLS = 120
HOUSEHOLDS = 430_000
COMMUNITIES = 144
GRID_TARGET = 300.0
COMMUNITY_TOL, GRID_TOL = 0.05, 0.10
# spopt's MaxP cannot finish the whole lattice in 10 minutes here, so it runs on one street.
STREET_ROWS, STREET_COLS = slice(55, 85), slice(30, 70)
START = time.perf_counter()


@dataclass
class Row:
    """One line of the comparison table."""

    name: str
    scope: str
    wall_s: float
    metrics: PlanMetrics
    grid: PlanMetrics | None = None

    def peer_json(self) -> dict[str, Any]:
        """Figures for the JSON `peers` entry."""
        return {
            "scope": self.scope,
            "wall_s": round(self.wall_s, 3),
            "dev_max": round(self.metrics.dev_max, 4),
            "pp_mean": round(self.metrics.pp_mean, 4),
            "barrier_crossings": self.metrics.barrier_crossings,
            "contiguous": self.metrics.contiguous,
        }


def log(message: str) -> None:
    """Progress line with elapsed time, on stderr."""
    print(f"[{time.perf_counter() - START:7.1f}s] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Result and wall seconds of fn()."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def metrics_for(
    city: CityLattice, units: NDArray[np.int64], labels: NDArray[np.int64], k: int
) -> PlanMetrics:
    """Community-level metrics of a plan over `units` (deviation against the plan's mean)."""
    sub = city.graph.subgraph(units)
    return plan_metrics(sub, city.households[units], labels, k, unit_polygons=city.polygons[units])


def run_ours(city: CityLattice, seed: int, workers: int) -> Row:
    """Nested communities then grids with our optimiser, plus dissolved polygons."""
    streets = np.full(city.graph.n, "lattice")
    community = LevelOptions(
        target=HOUSEHOLDS / COMMUNITIES, tolerance=COMMUNITY_TOL, counts={"lattice": COMMUNITIES}
    )
    grid = LevelOptions(target=GRID_TARGET, tolerance=GRID_TOL)

    def job() -> Any:
        plan = partition_hierarchy(
            city.graph,
            city.households,
            streets,
            seed,
            community=community,
            grid=grid,
            executor=ProcessExecutor(workers),
            progress=lambda stage, done, total: _tick("ours", stage, done, total),
        )
        dissolve(city.polygons, plan.community)
        dissolve(city.polygons, plan.grid)
        return plan

    plan, wall = timed(job)
    units = np.arange(city.graph.n)
    metrics = metrics_for(city, units, plan.community, COMMUNITIES)
    grid_metrics = plan_metrics(city.graph, city.households, plan.grid, int(plan.grid.max()) + 1, GRID_TARGET)
    return Row("ours", "whole lattice", wall, metrics, grid_metrics)


def _tick(name: str, stage: str, done: int, total: int) -> None:
    """Log every 24th finished subproblem."""
    if done == total or done % 24 == 0:
        log(f"{name}: {stage} {done}/{total}")


def run_pymetis(city: CityLattice) -> Row:
    """Nested METIS k-way with contiguity and household vertex weights (no edge weights)."""

    def job() -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        communities = _metis(city.graph, city.households, COMMUNITIES)
        grids = np.zeros(city.graph.n, dtype=np.int64)
        offset = 0
        for c in range(COMMUNITIES):
            units = np.flatnonzero(communities == c)
            k = max(1, round(city.households[units].sum() / GRID_TARGET))
            grids[units] = _metis(city.graph.subgraph(units), city.households[units], k) + offset
            offset += k
        return communities, grids

    (communities, grids), wall = timed(job)
    metrics = metrics_for(city, np.arange(city.graph.n), communities, COMMUNITIES)
    grid_metrics = plan_metrics(city.graph, city.households, grids, int(grids.max()) + 1, GRID_TARGET)
    return Row("pymetis", "whole lattice", wall, metrics, grid_metrics)


def _metis(graph: UnitGraph, households: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Plain pymetis k-way partition with contiguity."""
    if k == 1:
        return np.zeros(graph.n, dtype=np.int64)
    adjacency = pymetis.CSRAdjacency(graph.indptr, graph.indices)
    _, parts = pymetis.part_graph(k, adjacency, vweights=households, options=pymetis.Options(contig=1))
    return np.asarray(parts, dtype=np.int64)


def run_gerrychain(city: CityLattice, seed: int, steps: int) -> Row:
    """recursive_tree_part seed, then `steps` ReCom steps within the community tolerance."""
    from functools import partial

    from gerrychain import Graph, MarkovChain, Partition, accept, constraints
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.updaters import Tally

    nx_graph = nx.Graph()
    nx_graph.add_nodes_from(range(city.graph.n))  # node order = unit order
    src = city.graph.src
    upper = src < city.graph.indices
    nx_graph.add_edges_from(zip(src[upper].tolist(), city.graph.indices[upper].tolist(), strict=True))
    nx.set_node_attributes(nx_graph, dict(enumerate(city.households.tolist())), "hh")
    graph = Graph.from_networkx(nx_graph)
    ideal = float(city.households.sum()) / COMMUNITIES
    rng = random.Random(seed)

    def job() -> NDArray[np.int64]:
        log("gerrychain: recursive_tree_part seed")
        start = recursive_tree_part(graph, range(COMMUNITIES), ideal, "hh", COMMUNITY_TOL, rng=rng)
        plan = Partition(graph, start, updaters={"hh": Tally("hh", alias="hh")})
        proposal = partial(recom, pop_col="hh", pop_target=ideal, epsilon=COMMUNITY_TOL, rng=rng)
        valid = [constraints.within_percent_of_ideal_population(plan, COMMUNITY_TOL, "hh")]
        chain = MarkovChain(proposal, valid, accept.always_accept, plan, total_steps=steps, rng=rng)
        for step, state in enumerate(chain, start=1):
            plan = state
            if step % 100 == 0:
                log(f"gerrychain: ReCom step {step}/{steps}")
        return np.array([plan.assignment[node] for node in range(city.graph.n)], dtype=np.int64)

    labels, wall = timed(job)
    metrics = metrics_for(city, np.arange(city.graph.n), labels, COMMUNITIES)
    return Row("gerrychain", f"whole lattice, {steps} ReCom steps", wall, metrics)


def street_units() -> NDArray[np.int64]:
    """Units of the benchmark street: a 30 x 40 block crossed by the river and a major road."""
    rows = np.arange(ROWS)[STREET_ROWS]
    cols = np.arange(COLS)[STREET_COLS]
    return (rows[:, None] * COLS + cols[None, :]).ravel().astype(np.int64)


def run_spopt(city: CityLattice, units: NDArray[np.int64]) -> Row:
    """spopt MaxPHeuristic on one street with a household floor of target * (1 - tolerance)."""
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    sub = city.graph.subgraph(units)
    neighbours = {i: sub.neighbours(i).tolist() for i in range(sub.n)}
    frame = gpd.GeoDataFrame(
        {"hh": city.households[units], "attr": city.households[units].astype(float)},
        geometry=city.polygons[units],
    )
    floor = HOUSEHOLDS / COMMUNITIES * (1.0 - COMMUNITY_TOL)
    model = MaxPHeuristic(
        frame,
        W(neighbours, silence_warnings=True),
        ["attr"],
        "hh",
        floor,
        max_iterations_construction=5,
        max_iterations_sa=1,
    )

    def job() -> NDArray[np.int64]:
        np.random.seed(0)  # spopt draws from numpy's global generator; there is no rng argument
        model.solve()
        return np.asarray(model.labels_, dtype=np.int64)

    log(f"spopt: MaxPHeuristic on the street ({units.size} units)")
    labels, wall = timed(job)
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    k = int(labels.max()) + 1
    return Row("spopt", f"street {units.size} units, p={k}", wall, metrics_for(city, units, labels, k))


def run_ours_street(city: CityLattice, units: NDArray[np.int64], seed: int) -> Row:
    """Our single-level partition of the same street, k = round(households / target)."""
    sub = city.graph.subgraph(units)
    target = HOUSEHOLDS / COMMUNITIES
    result, wall = timed(
        lambda: partition(
            sub, city.households[units], None, target, COMMUNITY_TOL, np.random.default_rng(seed)
        )
    )
    return Row(
        "ours",
        f"street {units.size} units, k={result.k}",
        wall,
        metrics_for(city, units, result.assignment, result.k),
    )


def print_table(rows: list[Row]) -> None:
    """Side-by-side table of all runs."""
    head = (
        f"{'method':<11} {'scope':<34} {'wall_s':>7} {'k':>4} {'dev_max':>8} {'in5%':>6} "
        f"{'pp_mean':>8} {'hull':>6} {'barrier':>8} {'contig':>6}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        m = row.metrics
        print(
            f"{row.name:<11} {row.scope:<34} {row.wall_s:7.2f} {m.districts:4d} {m.dev_max:8.4f} "
            f"{m.share_within_5pct:6.3f} {m.pp_mean:8.4f} {m.hull_ratio_mean or 0.0:6.3f} "
            f"{m.barrier_crossings:8d} {m.contiguous!s:>6}"
        )
        if row.grid is not None:
            g = row.grid
            print(
                f"{'  grids':<11} {'vs 300 households':<34} {'':>7} {g.districts:4d} {g.dev_max:8.4f} "
                f"{g.share_within_5pct:6.3f} {g.pp_mean:8.4f} {'':>6} "
                f"{g.barrier_crossings:8d} {g.contiguous!s:>6}"
                f"   within 10%: {g.share_within_10pct:.4f}"
            )


def main() -> None:
    """Build the lattice, run every method, print the table and the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--recom-steps", type=int, default=1000)
    parser.add_argument("--skip-peers", action="store_true", help="run only ours and pymetis")
    args = parser.parse_args()
    city = city_lattice(ROWS, COLS, HOUSEHOLDS, np.random.default_rng(args.seed))
    log(
        f"lattice: {city.graph.n} units, {int(city.households.sum())} households, "
        f"{int(city.graph.edge_barrier.sum()) // 2} barrier edges"
    )
    log("ours: communities then grids")
    ours = run_ours(city, args.seed, args.workers)
    log("pymetis: nested k-way")
    rows = [ours, run_pymetis(city)]
    if not args.skip_peers:
        rows.append(run_gerrychain(city, args.seed, args.recom_steps))
        street = street_units()
        rows.append(run_spopt(city, street))
        rows.append(run_ours_street(city, street, args.seed))
    print_table(rows)
    print(json.dumps(summary(ours, rows[1:])))


def summary(ours: Row, peers: list[Row]) -> dict[str, Any]:
    """The JSON figures: ours at both levels, peers at community level on their scope."""
    assert ours.grid is not None
    street_ours = [row for row in peers if row.name == "ours"]
    figures: dict[str, Any] = {
        "wall_s": round(ours.wall_s, 3),
        "communities": ours.metrics.districts,
        "grids": ours.grid.districts,
        "community_dev_max": round(ours.metrics.dev_max, 4),
        "grid_share_within_10pct": round(ours.grid.share_within_10pct, 4),
        "grid_dev_max": round(ours.grid.dev_max, 4),
        "pp_mean": round(ours.metrics.pp_mean, 4),
        "grid_pp_mean": round(ours.grid.pp_mean, 4),
        "barrier_crossings": ours.metrics.barrier_crossings,
        "grid_barrier_crossings": ours.grid.barrier_crossings,
        "contiguous": bool(ours.metrics.contiguous and ours.grid.contiguous),
        "peers": {row.name: row.peer_json() for row in peers if row.name != "ours"},
    }
    if street_ours:
        figures["ours_on_spopt_street"] = street_ours[0].peer_json()
    pymetis_grid = next((row.grid for row in peers if row.name == "pymetis"), None)
    if pymetis_grid is not None:
        figures["peers"]["pymetis"]["grid_dev_max"] = round(pymetis_grid.dev_max, 4)
        figures["peers"]["pymetis"]["grid_share_within_10pct"] = round(pymetis_grid.share_within_10pct, 4)
    return figures


if __name__ == "__main__":
    main()

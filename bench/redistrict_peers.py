"""Lattice benchmark: our redistricting optimiser against pymetis, GerryChain and spopt, 5 seeds each.

A 120 x 120 lattice (14,400 units, ~430k households clustered like a city, with a river, two major
roads and a railway as barriers: boundaries.synthetic, labelled synthetic) is nested into 144
communities, then grids of ~300 households. Unlike the Wuchang demo (14 streets of 53-960 units)
it is one parent of 14,400 units: the regime where one subproblem is large.

Ours: communities then grids (partition_hierarchy in a pool of one process per core) plus the
dissolved polygons, timed by wall clock and by CPU of this process and its pool. Peers at the
community level on the same units, configured as bench/redistrict_methods.py describes, in the
same pool, CPU seconds reported, and our own optimiser on the same community task for a
like-for-like time: pymetis (ours without annealing), GerryChain (seed + short bursts at epsilon
<= 2 %), spopt max-p (not applicable: no k and no upper bound; defaults, on one 30 x 40 street
block crossed by the river and a major road, 1 seed unless --spopt-seeds says otherwise).
Figures per seed, then min / median / max. Prints progress, tables, and a JSON object last.

    .venv/bin/python bench/redistrict_peers.py [--seeds 5] [--bursts 100] [--spopt-seeds 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench import redistrict_methods as methods
from bench.common import Machine, log, spread
from bench.redistrict import cpu_seconds
from boundaries.dissolve import dissolve
from boundaries.executor import ProcessExecutor
from boundaries.metrics import plan_metrics
from boundaries.partition import LevelOptions, partition_hierarchy
from boundaries.synthetic import CityLattice, city_lattice

ROWS = COLS = 120
HOUSEHOLDS = 430_000
COMMUNITIES = 144
GRID_TARGET = 300.0
COMMUNITY_TOL, GRID_TOL = 0.05, 0.10
LATTICE_SEED = 1
STREET_ROWS, STREET_COLS = slice(55, 85), slice(30, 70)


def run_ours(city: CityLattice, seed: int, workers: int | None) -> dict[str, Any]:
    """Nested communities then grids with our optimiser, plus dissolved polygons."""
    streets = np.full(city.graph.n, "lattice")
    community = LevelOptions(HOUSEHOLDS / COMMUNITIES, COMMUNITY_TOL, counts={"lattice": COMMUNITIES})
    grid = LevelOptions(target=GRID_TARGET, tolerance=GRID_TOL)
    cpu, started = cpu_seconds(), time.perf_counter()
    plan = partition_hierarchy(city.graph, city.households, streets, seed, community=community, grid=grid,
                               executor=ProcessExecutor(workers))  # fmt: skip
    dissolve(city.polygons, plan.community)
    dissolve(city.polygons, plan.grid)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    k = int(plan.community.max()) + 1
    communities = plan_metrics(city.graph, city.households, plan.community, k)
    grids = plan_metrics(city.graph, city.households, plan.grid, int(plan.grid.max()) + 1, GRID_TARGET)
    log(f"ours, seed {seed}: {wall:.1f} s wall, {cpu:.1f} s CPU, community dev max {communities.dev_max:.2%}")
    return {
        "seed": seed, "wall_s": wall, "cpu_s": cpu, "communities": k,
        "community_dev_max": communities.dev_max,
        "pp_mean": communities.pp_mean, "barrier_crossings": communities.barrier_crossings,
        "contiguous": communities.contiguous, "grids": grids.districts, "grid_dev_max": grids.dev_max,
        "grid_share_within_10pct": grids.share_within_10pct, "grid_contiguous": grids.contiguous,
    }  # fmt: skip


def street_units() -> NDArray[np.int64]:
    """Units of the spopt street: a 30 x 40 block crossed by the river and a major road."""
    rows = np.arange(ROWS)[STREET_ROWS]
    cols = np.arange(COLS)[STREET_COLS]
    return (rows[:, None] * COLS + cols[None, :]).ravel().astype(np.int64)


def run_peer(
    city: CityLattice, method: str, seed: int, args: argparse.Namespace, pool: ProcessExecutor
) -> dict:
    """One method on the whole lattice (spopt: on the street block, k from its households)."""
    units = street_units() if method == "spopt" else np.arange(city.graph.n, dtype=np.int64)
    households = city.households.astype(float)
    k = (
        COMMUNITIES
        if method != "spopt"
        else max(1, round(households[units].sum() / (HOUSEHOLDS / COMMUNITIES)))
    )
    graph = city.graph.subgraph(units)
    key = "lattice" if method != "spopt" else "street block"
    task = methods.Task(
        method, key, graph, households[units], k, seed, tolerance=COMMUNITY_TOL, bursts=args.bursts
    )
    return methods.run_tasks([task], graph, households[units], [np.arange(len(units))], pool)


def print_tables(ours: list[dict[str, Any]], peers: dict[str, dict[str, Any]], machine: Machine) -> None:
    print(f"\n{machine.header()}")
    print(f"SYNTHETIC lattice {ROWS} x {COLS} ({ROWS * COLS:,} units, ~{HOUSEHOLDS:,} households); ours, "
          f"communities and grids, {len(ours)} seeds:")  # fmt: skip
    head = f"{'seed':>6}{'wall s':>8}{'CPU s':>8}{'comm.':>6}{'dev max':>9}{'grids':>6}{'grid ±10%':>10}"
    head += f"{'PP mean':>9}{'barrier':>8}{'contig':>7}{'grid contig':>12}"
    print(head + "\n" + "-" * len(head))
    for run in ours:
        print(f"{run['seed']:>6}{run['wall_s']:>8.1f}{run['cpu_s']:>8.1f}{run['communities']:>6}"
              f"{run['community_dev_max']:>9.2%}{run['grids']:>6}{run['grid_share_within_10pct']:>10.1%}"
              f"{run['pp_mean']:>9.3f}{run['barrier_crossings']:>8}{run['contiguous']!s:>7}"
              f"{run['grid_contiguous']!s:>12}")  # fmt: skip
    print("\ncommunities, same units, same pool (one worker per core); medians of the seeds:")
    methods.print_peer_table(peers)


def main() -> None:
    """Build the lattice, run every method with every seed, print the tables and the JSON figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--bursts", type=int, default=100, help="GerryChain short bursts of 10 ReCom steps")
    parser.add_argument("--spopt-seeds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="pool size (default: one per core)")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1 seed, 5 bursts, no spopt (development only)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.bursts, args.spopt_seeds = 1, 5, 0
    machine = Machine()
    seeds = list(range(1, args.seeds + 1))
    city = city_lattice(ROWS, COLS, HOUSEHOLDS, np.random.default_rng(LATTICE_SEED))
    log(f"lattice: {city.graph.n} units, {int(city.households.sum())} households, "
        f"{int(city.graph.edge_barrier.sum()) // 2} barrier edges")  # fmt: skip
    ours = [run_ours(city, seed, args.workers) for seed in seeds]
    peers: dict[str, dict[str, Any]] = {}
    if not args.skip_peers:
        pool = ProcessExecutor(args.workers)
        plan = [
            ("ours (communities only)", "ours", seeds, "whole lattice"),
            ("pymetis (ours without annealing)", "metis", seeds, "whole lattice"),
            ("GerryChain (seed + short bursts)", "gerrychain", seeds, "whole lattice"),
            ("spopt (max-p; not applicable)", "spopt", seeds[: args.spopt_seeds], "30 x 40 street block"),
        ]
        for name, method, method_seeds, scope in plan:
            if method_seeds:
                runs = [run_peer(city, method, seed, args, pool) for seed in method_seeds]
                peers[name] = methods.peer_summary(runs, scope)
    print_tables(ours, peers, machine)
    print(json.dumps(summary(ours, peers, seeds, machine)))


def summary(ours: list[dict[str, Any]], peers: dict[str, dict[str, Any]], seeds: list[int],
            machine: Machine) -> dict[str, Any]:  # fmt: skip
    """The JSON figures: ours at both levels (medians of the seeds), peers at community level."""
    keys = {
        "pymetis (ours without annealing)": "metis",
        "GerryChain (seed + short bursts)": "gerrychain",
        "spopt (max-p; not applicable)": "spopt",
        "ours (communities only)": "ours_communities_only",
    }
    named = {keys[name]: row for name, row in peers.items()}
    if peers:
        methods.label_spopt(named)
    median = methods.median
    return {
        "graph": "synthetic lattice",
        "units": ROWS * COLS,
        "wall_s": median(ours, "wall_s", 2),
        "cpu_s": median(ours, "cpu_s", 2),
        "communities": ours[0]["communities"],
        "grids": int(median(ours, "grids", 0)),
        "community_dev_max": median(ours, "community_dev_max"),
        "community_dev_max_spread": spread([run["community_dev_max"] for run in ours]),
        "grid_share_within_10pct": median(ours, "grid_share_within_10pct"),
        "grid_dev_max": median(ours, "grid_dev_max"),
        "pp_mean": median(ours, "pp_mean"),
        "barrier_crossings": int(median(ours, "barrier_crossings", 0)),
        "contiguous": all(run["contiguous"] for run in ours),
        "grid_contiguous": all(run["grid_contiguous"] for run in ours),
        "seeds": seeds,
        "peers": {name: row for name, row in named.items() if name != "ours_communities_only"},
        "ours_communities_only": named.get("ours_communities_only"),
        **machine.figures(),
    }


if __name__ == "__main__":
    main()

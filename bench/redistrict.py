"""Benchmark: redistrict the whole Wuchang demo (communities, then grids) and compare with peers.

Starts everything itself from a fresh checkout: a copy of the demo database (bench/common.py).

Ours: the whole `wangge redistrict` job (read, units, communities and grids in a pool of one
process per core, polygons, storing the draft) for each of 5 seeds; its community figures are
recounted from the STORED household assignment (a household belongs to the grid around it, so a
few move after the optimiser is done) and its grid contiguity is reported at unit level and as
single-part stored polygons.

Peers (bench/redistrict_methods.py says how each is configured and why), at the community level
on the same units, street by street, in the same process pool as ours (one worker per core), each
with 5 seeds and CPU seconds reported: pymetis (ours without annealing), GerryChain (seeded, short
bursts of ReCom minimising the largest deviation at epsilon <= 2 %), spopt (max-p; not applicable:
no k and no upper bound, run with its defaults for 1 seed unless --spopt-seeds says otherwise),
and our own optimiser on the same per-street tasks, for a like-for-like time.

Figures per seed, then min / median / max. Prints tables and, last, a JSON object.

    .venv/bin/python bench/redistrict.py [--seeds 5] [--bursts 100] [--spopt-seeds 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench import redistrict_methods as methods
from bench.common import Machine, demo_copy, district, district_code, drop, log, spread
from boundaries.executor import ProcessExecutor
from gis_api.config import get_settings
from gis_api.redistrict import service
from gis_api.redistrict.compounds import spread_shared_points
from gis_api.redistrict.inputs import read_inputs
from gis_api.redistrict.units import UnitSet, build_units

DATABASE = "wangge_bench_redistrict"
OFFICIAL = get_settings().data_dir / "nbs2023_communities.csv"
FIRST_SEED = 420106
GRID_TARGET = 300.0
RECOUNT_SQL = """
SELECT c.street_code, count(pa.household_id) FROM community c
LEFT JOIN grid g ON g.community_id = c.id
LEFT JOIN plan_assignment pa ON pa.grid_id = g.id AND pa.plan_id = c.plan_id
WHERE c.plan_id = :p GROUP BY c.id, c.street_code
"""
GRIDS_SQL = """
SELECT count(pa.household_id), ST_NumGeometries(g.geom) FROM grid g
LEFT JOIN plan_assignment pa ON pa.grid_id = g.id AND pa.plan_id = g.plan_id
WHERE g.plan_id = :p GROUP BY g.id
"""


def cpu_seconds() -> float:
    """CPU of this process and of its finished children (the optimiser's pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stored_figures(engine: Engine, plan_id: int) -> dict[str, Any]:
    """Community deviation from each street's mean and grid figures, counted from the stored plan."""
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("ANALYZE plan_assignment, grid, community"))  # the new rows' statistics
        communities = connection.execute(text(RECOUNT_SQL), {"p": plan_id}).all()
        grids = connection.execute(text(GRIDS_SQL), {"p": plan_id}).all()
    streets = np.array([row[0] for row in communities])
    counts = np.array([row[1] for row in communities], dtype=float)
    deviation = np.zeros(len(counts))
    for street in set(streets.tolist()):
        mine = streets == street
        deviation[mine] = np.abs(counts[mine] / counts[mine].mean() - 1)
    grid_counts = np.array([row[0] for row in grids], dtype=float)
    grid_dev = np.abs(grid_counts / GRID_TARGET - 1)
    return {
        "communities": len(counts),
        "community_dev_max": float(deviation.max()),
        "grids": len(grid_counts),
        "grid_dev_max": float(grid_dev.max()),
        "grid_share_within_10pct": float(np.mean(grid_dev <= 0.10 + 1e-9)),
        "grid_single_part_share": float(np.mean(np.array([row[1] for row in grids]) == 1)),
    }


def run_command(engine: Engine, district: str, seed: int) -> dict[str, Any]:
    """The whole redistrict job for one seed: wall and CPU seconds and the stored plan's figures."""
    options = service.RedistrictOptions(
        official_codes=OFFICIAL, seed=seed, name=f"bench seed {seed}", district=district
    )
    cpu, started = cpu_seconds(), time.perf_counter()
    report = service.redistrict(engine, options, progress=lambda message: None)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    log(f"ours, seed {seed}: draft plan {report.plan_id} stored; recounting it")
    community, grid = report.metrics["communities"], report.metrics["grids"]
    assert isinstance(community, dict) and isinstance(grid, dict)
    figures = {
        "seed": seed,
        "wall_s": wall,
        "cpu_s": cpu,
        **stored_figures(engine, report.plan_id),
        "community_dev_max_units": community["dev_max"],
        "pp_mean": community["pp_mean"],
        "barrier_crossings": community["barrier_crossings"],
        "contiguous": bool(community["contiguous"]),
        "grid_contiguous": bool(grid["contiguous"]),
        "timings_s": report.timings_s,
    }
    log(f"ours, seed {seed}: {wall:.1f} s wall, {cpu:.1f} s CPU, community dev max "
        f"{figures['community_dev_max']:.2%} (recounted), grids within 10 %: "
        f"{figures['grid_share_within_10pct']:.1%}")  # fmt: skip
    return figures


@dataclass
class Streets:
    """The units split by street, with each street's official community count."""

    units: UnitSet
    keys: list[str]
    members: list[np.ndarray]
    counts: dict[str, int]
    households: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.households = self.units.units["households"].to_numpy(dtype=float)

    @classmethod
    def read(cls, engine: Engine) -> Streets:
        """The district's units in its own metric CRS, as the redistrict job builds them."""
        official = service.read_official(OFFICIAL)
        where = district(engine)
        options = service.RedistrictOptions()
        with engine.connect() as connection:
            inputs, _ = spread_shared_points(read_inputs(connection, where.code, where.metric_crs, official))
            limits = service.cut_limits(inputs, options, service.street_counts(official, options))
            units = build_units(inputs, limits, lambda message: None)
        codes = units.units["street_code"].to_numpy()
        keys = sorted(set(codes.tolist()))
        counts = official.groupby("street_code").size().to_dict()
        return cls(units, keys, [np.flatnonzero(codes == key) for key in keys], counts)

    def tasks(self, method: str, seed: int, bursts: int) -> list[methods.Task]:
        graph, households, counts = self.units.graph, self.households, self.counts
        return [
            methods.Task(
                method,
                f"street/{key}",
                graph.subgraph(units),
                households[units],
                counts[key],
                seed,
                bursts=bursts,
            )
            for key, units in zip(self.keys, self.members, strict=True)
        ]


def run_method(
    streets: Streets, method: str, seed: int, bursts: int, pool: ProcessExecutor
) -> dict[str, Any]:
    """One method on every street with one seed, in the shared pool."""
    graph, households = streets.units.graph, streets.households
    return methods.run_tasks(streets.tasks(method, seed, bursts), graph, households, streets.members, pool)


def print_tables(ours: list[dict[str, Any]], peers: dict[str, dict[str, Any]], machine: Machine) -> None:
    print(f"\n{machine.header()}")
    print(
        f"ours, the whole redistrict job, {len(ours)} seeds "
        "(community figures recounted from the stored plan):"
    )
    head = f"{'seed':>8}{'wall s':>8}{'CPU s':>8}{'comm.':>6}{'dev max':>9}{'grids':>6}{'grid ±10%':>10}"
    head += f"{'PP mean':>9}{'barrier':>8}{'contig':>7}{'grids 1-part':>13}"
    print(head + "\n" + "-" * len(head))
    for run in ours:
        print(f"{run['seed']:>8}{run['wall_s']:>8.1f}{run['cpu_s']:>8.1f}{run['communities']:>6}"
              f"{run['community_dev_max']:>9.2%}{run['grids']:>6}{run['grid_share_within_10pct']:>10.1%}"
              f"{run['pp_mean']:>9.3f}{run['barrier_crossings']:>8}{run['contiguous']!s:>7}"
              f"{run['grid_single_part_share']:>13.1%}")  # fmt: skip
    print("\ncommunities per street, same units, same pool (one worker per core); medians of the seeds:")
    methods.print_peer_table(peers)
    spopt = peers.get("spopt (max-p; not applicable)")
    if spopt:
        print(
            f"spopt: {spopt['notes'][0] if spopt['notes'] else ''} ... "
            "(regions >= the street mean, no upper bound)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--bursts", type=int, default=100, help="GerryChain short bursts of 10 steps per street"
    )
    parser.add_argument("--spopt-seeds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="pool size (default: one per core)")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1 seed, 10 bursts, no spopt (development only)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.bursts, args.spopt_seeds = 1, 10, 0
    machine = Machine()
    seeds = [FIRST_SEED + i for i in range(args.seeds)]
    url = demo_copy(DATABASE)
    engine = create_engine(url)
    try:
        ours = [run_command(engine, district_code(engine), seed) for seed in seeds]
        peers = {} if args.skip_peers else compare(engine, seeds, args)
    finally:
        engine.dispose()
        drop(DATABASE)
    print_tables(ours, peers, machine)
    print(json.dumps(summary(ours, peers, seeds, machine), ensure_ascii=False))
    return 0


def compare(engine: Engine, seeds: list[int], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Ours per street and the peers, each seed in turn, in one shared pool."""
    streets = Streets.read(engine)
    log(f"{streets.units.graph.n:,} units in {len(streets.keys)} streets for the per-street comparison")
    pool = ProcessExecutor(args.workers)
    plan = [("ours (communities only)", "ours", seeds), ("pymetis (ours without annealing)", "metis", seeds),
            ("GerryChain (seed + short bursts)", "gerrychain", seeds),
            ("spopt (max-p; not applicable)", "spopt", seeds[: args.spopt_seeds])]  # fmt: skip
    found: dict[str, dict[str, Any]] = {}
    for name, method, method_seeds in plan:
        if method_seeds:
            runs = [run_method(streets, method, seed, args.bursts, pool) for seed in method_seeds]
            found[name] = methods.peer_summary(runs, "communities per street")
    return found


def summary(ours: list[dict[str, Any]], peers: dict[str, dict[str, Any]], seeds: list[int],
            machine: Machine) -> dict[str, Any]:  # fmt: skip
    keys = {
        "ours (communities only)": "ours_communities_only",
        "pymetis (ours without annealing)": "metis",
        "GerryChain (seed + short bursts)": "gerrychain",
        "spopt (max-p; not applicable)": "spopt",
    }
    named = {keys[name]: row for name, row in peers.items()}
    if peers:
        methods.label_spopt(named)
    stages = {
        stage: round(statistics.median(run["timings_s"][stage] for run in ours), 2)
        for stage in ours[0]["timings_s"]
    }
    return {
        "wall_s": methods.median(ours, "wall_s", 2),
        "cpu_s": methods.median(ours, "cpu_s", 2),
        "communities": ours[0]["communities"],
        "grids": int(methods.median(ours, "grids", 0)),
        "community_dev_max": methods.median(ours, "community_dev_max"),
        "community_dev_max_spread": spread([run["community_dev_max"] for run in ours]),
        "community_dev_max_units": methods.median(ours, "community_dev_max_units"),
        "grid_share_within_10pct": methods.median(ours, "grid_share_within_10pct"),
        "grid_dev_max": methods.median(ours, "grid_dev_max"),
        "pp_mean": methods.median(ours, "pp_mean"),
        "barrier_crossings": int(methods.median(ours, "barrier_crossings", 0)),
        "contiguous": all(run["contiguous"] for run in ours),
        "grid_contiguous": all(run["grid_contiguous"] for run in ours),
        "grid_single_part_share": methods.median(ours, "grid_single_part_share"),
        "seeds": seeds,
        "timings_s": stages,
        "peers": {name: row for name, row in named.items() if name != "ours_communities_only"},
        "ours_communities_only": named.get("ours_communities_only"),
        **machine.figures(),
    }


if __name__ == "__main__":
    sys.exit(main())

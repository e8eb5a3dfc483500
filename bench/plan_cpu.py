"""Benchmark: CPU seconds per planning stage of real city districts, and the plan each one gives.

Redistricting a city is CPU-bound (bench/city.py: 1,311 CPU s for Wuhan on 2 cores), and a
shared machine's wall clock measures the other users, so this counts CPU seconds
(`time.process_time()`), stage by stage, of what `wangge redistrict --city` does per district:

  units      build_units: tessellation, heavy units cut, adjacency graphs (one task per district)
  optimise   every street's communities and every community's grids (solve_subproblem), in this
             process one after another (communities / grids: CPU of each level's subproblems)
  polygons   draw_district: plan_geometry (dissolve, codes) and plan_outcome (household
             assignment, metrics)

Steps (each starts what it needs from a fresh checkout):

  prepare    the embedded cluster, a database of its own (wangge_bench_plan), the city generator's
             districts (`--districts`, `--scale`; 420106 at scale 1 is the Wuchang demo), and each
             district's inputs read as `wangge redistrict --city` reads them, pickled under --dir
  run        the stages on those inputs (no database), the plan's fingerprint written to --record:
             every unit's community, every grid unit's grid, every household's grid code, and
             hashes of the units, graphs and polygons. With --compare FILE (the record of another
             checkout's run): whether every part is identical. With --profile DIR: a cProfile file
             per stage and district (take CPU figures from an unprofiled run: a profile inflates
             Python code several times more than numpy or GEOS code)
  replay     every --every-th subproblem of the last `run` again (their tasks are cached), each
             result compared with the one it gave then: a quick check while changing the optimiser

    .venv/bin/python bench/plan_cpu.py prepare --districts 420106,420107 [--scale 1.0]
    .venv/bin/python bench/plan_cpu.py run --districts 420106,420107 --record /tmp/after.pkl \
        [--compare /tmp/before.pkl] [--profile DIR] [--stages units,optimise,polygons]

The peer is the code before: a checkout of it (`git worktree add /tmp/base main`) with this
script copied into its bench/, run from there (the script imports the checkout it lies in) on the
same --dir and its own --cache: same inputs, same seed, and the plans must be identical.
Prints a table and a JSON line last.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pickle
import sys
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from boundaries.executor import SerialExecutor, SerialStream, TaskStream
from boundaries.graph import UnitGraph
from boundaries.partition import HierarchyResult, partition_hierarchies, solve_subproblem
from gis_api.config import get_settings
from gis_api.redistrict.city import draw_district, own_official
from gis_api.redistrict.service import RedistrictOptions, cut_limits, hierarchy_problem, street_counts
from gis_api.redistrict.units import UnitSet, build_units

DATABASE = "wangge_bench_plan"
CITY = "4201"
STAGES = ("units", "optimise", "polygons")


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def prepare(directory: Path, districts: list[str], scale: float, seed: int) -> None:
    """Load the districts into the benchmark database and pickle each one's inputs."""
    from sqlalchemy import create_engine

    from gis_api.db import migrate
    from gis_api.db.cluster import EmbeddedCluster
    from gis_api.demo.city.load import load_city
    from gis_api.redistrict.city import city_districts, read_district
    from gis_api.redistrict.service import read_official

    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    cluster.drop_database(DATABASE)
    engine = create_engine(cluster.create_database(DATABASE, exist_ok=True))
    migrate.upgrade(engine)
    log(str(load_city(engine, seed, scale=scale, districts=districts, progress=log)))
    directory.mkdir(parents=True, exist_ok=True)
    official = read_official(None)
    with engine.connect() as connection:
        for row in city_districts(connection, CITY, districts):
            inputs, spread = read_district(connection, row, official, log)
            (directory / f"inputs-{row.code}.pkl").write_bytes(pickle.dumps((inputs, spread)))
    engine.dispose()


class TimedExecutor(SerialExecutor):
    """Runs subproblems in this process, one after another, adding each one's CPU seconds to its
    level (street tasks draw communities, community tasks draw grids)."""

    def __init__(self, keep: list[tuple[Any, Any, float]] | None = None) -> None:
        self.cpu_s: dict[str, float] = {"street": 0.0, "community": 0.0}
        self.keep = keep

    @contextmanager
    def stream(self) -> Iterator[TaskStream]:
        yield _TimedStream(self.cpu_s, self.keep)


class _TimedStream(SerialStream):
    """Times each task; with `keep`, also keeps (task, its assignment, CPU s) for `replay`."""

    def __init__(self, cpu_s: dict[str, float], keep: list[tuple[Any, Any, float]] | None) -> None:
        super().__init__()
        self.cpu_s, self.keep = cpu_s, keep

    def submit(self, tag: Hashable, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        level = str(tag[0]) if isinstance(tag, tuple) else "other"

        def timed(*values: Any) -> Any:
            began = time.process_time()
            result = fn(*values)
            spent = time.process_time() - began
            self.cpu_s[level] = self.cpu_s.get(level, 0.0) + spent
            if self.keep is not None:
                self.keep.append((values[0], result.assignment.copy(), spent))
            return result

        return super().submit(tag, timed, *args, priority=priority)


def digest(*parts: Any) -> str:
    """sha256 of arrays and geometries (WKB), to tell identical results apart from near ones."""
    sha = hashlib.sha256()
    for part in parts:
        array = np.asarray(part)
        if array.dtype == object:
            sha.update(b"".join(shapely.to_wkb(array, hex=False, include_srid=False).tolist()))
        else:
            sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()[:16]


def graph_digest(graph: UnitGraph) -> str:
    return digest(graph.indptr, graph.indices, graph.edge_length, graph.edge_barrier, graph.x, graph.y,
                  graph.area, graph.exterior_length)  # fmt: skip


def units_record(units: UnitSet) -> dict[str, str]:
    ids = sorted(units.household_ids)
    return {
        "units": digest(units.units.geometry.to_numpy(), units.units["households"].to_numpy()),
        "grid_units": digest(units.grid_units.geometry.to_numpy(), units.grid_units["households"].to_numpy()),
        "graph": graph_digest(units.graph),
        "grid_graph": graph_digest(units.grid_graph),
        "household_order": digest(np.asarray(ids), *(units.household_ids[i] for i in ids)),
    }


class Profiler:
    """cProfile of each stage into DIR/<district>-<stage>.prof, or nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @contextmanager
    def stage(self, code: str, stage: str) -> Iterator[None]:
        if self.directory is None:
            yield
            return
        profile = cProfile.Profile()
        profile.enable()
        try:
            yield
        finally:
            profile.disable()
            self.directory.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(str(self.directory / f"{code}-{stage}.prof"))


def run_district(
    source: Path, directory: Path, code: str, stages: set[str], profiler: Profiler, seed: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """CPU seconds per stage of one district and its plan's record. Stages left out reuse the
    outputs an earlier run cached under `directory` (so one stage can be timed alone)."""
    inputs, spread = pickle.loads((source / f"inputs-{code}.pkl").read_bytes())
    options, official = RedistrictOptions(seed=seed), own_official(_no_official(), code)
    cpu: dict[str, float] = {}
    record: dict[str, Any] = {}
    cached = directory / f"units-{code}.pkl"
    if "units" in stages or not cached.exists():
        limits = cut_limits(inputs, options, street_counts(official, options))
        with profiler.stage(code, "units"):
            began = time.process_time()
            units = build_units(inputs, limits, lambda _message: None)
            cpu["units"] = time.process_time() - began
        cached.write_bytes(pickle.dumps(units))
    else:
        units = pickle.loads(cached.read_bytes())
    record["units"] = units_record(units)
    result = _optimise(directory, code, units, options, official, stages, profiler, cpu)
    record["community"] = result.community.copy()
    record["grid"] = result.grid.copy()
    if "polygons" in stages:
        with profiler.stage(code, "polygons"):
            began = time.process_time()
            geometry, outcome = draw_district(inputs, units, result, official, options, spread)
            cpu["polygons"] = time.process_time() - began
        codes = geometry.grids["code"].to_numpy(dtype=object)
        record["household_grid"] = dict(
            zip(outcome.assignment["household_id"].tolist(), codes[outcome.assignment["grid"]].tolist(),
                strict=True)
        )  # fmt: skip
        record["unit_community"] = geometry.communities["code"].to_numpy(dtype=object)[result.community]
        record["polygons"] = digest(
            geometry.communities.geometry.to_numpy(), geometry.grids.geometry.to_numpy()
        )
        record["metrics"] = json.dumps(outcome.metrics, sort_keys=True, default=str)
    return cpu, record


def _optimise(
    directory: Path,
    code: str,
    units: UnitSet,
    options: RedistrictOptions,
    official: Any,
    stages: set[str],
    profiler: Profiler,
    cpu: dict[str, float],
) -> HierarchyResult:
    cached = directory / f"result-{code}.pkl"
    if "optimise" not in stages and cached.exists():
        result: HierarchyResult = pickle.loads(cached.read_bytes())
        return result
    keep: list[tuple[Any, Any, float]] = []
    executor = TimedExecutor(keep)
    with profiler.stage(code, "optimise"):
        began = time.process_time()
        result = partition_hierarchies([hierarchy_problem(units, options, official)], executor)[0]
        cpu["optimise"] = time.process_time() - began
    cpu["optimise: communities"] = executor.cpu_s["street"]
    cpu["optimise: grids"] = executor.cpu_s["community"]
    cached.write_bytes(pickle.dumps(result))
    (directory / f"tasks-{code}.pkl").write_bytes(pickle.dumps(keep))
    return result


def replay(directory: Path, districts: list[str], every: int, profiler: Profiler) -> dict[str, Any]:
    """Every `every`-th subproblem of the districts' last optimise run again: CPU per level and
    whether each gives the assignment it gave then (a quick check while changing the optimiser)."""
    cpu = {"street": 0.0, "community": 0.0}
    differ: list[str] = []
    for code in districts:
        tasks = pickle.loads((directory / f"tasks-{code}.pkl").read_bytes())[::every]
        with profiler.stage(code, "replay"):
            for task, assignment, _ in tasks:
                began = time.process_time()
                result = solve_subproblem(task)
                cpu[task.key.split("/")[0]] += time.process_time() - began
                if not np.array_equal(result.assignment, assignment):
                    differ.append(task.key)
    return {"replay_cpu_s": {k: round(v, 2) for k, v in cpu.items()}, "replay_differ": differ}


def _no_official() -> Any:
    from gis_api.redistrict.service import read_official

    return read_official(None)


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, bool]:
    """Per district and part: identical?"""
    same: dict[str, bool] = {}
    for code, record in after.items():
        if code not in before:
            continue
        for part, value in record.items():
            if part not in before[code]:
                continue
            old = before[code][part]
            equal = bool(np.array_equal(old, value)) if isinstance(value, np.ndarray) else old == value
            same[f"{code} {part}"] = bool(equal)
    return same


def print_table(cpu: dict[str, dict[str, float]], same: dict[str, bool]) -> None:
    rows = sorted({stage for stages in cpu.values() for stage in stages}, key=_stage_order)
    print(f"{'CPU s':<24}" + "".join(f"{code:>12}" for code in cpu))
    for stage in rows:
        print(f"{stage:<24}" + "".join(f"{cpu[code].get(stage, float('nan')):>12.1f}" for code in cpu))
    for key, equal in same.items():
        print(f"{key:<36}{'identical' if equal else 'DIFFERENT'}")


def _stage_order(stage: str) -> tuple[int, str]:
    head = stage.split(":")[0]
    return (STAGES.index(head) if head in STAGES else len(STAGES), stage)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=("prepare", "run", "replay"))
    parser.add_argument("--every", type=int, default=1, help="replay: every N-th subproblem")
    parser.add_argument("--districts", default="420106,420107", help="comma-separated district codes")
    parser.add_argument("--scale", type=float, default=1.0, help="prepare: households times this")
    parser.add_argument(
        "--dir", type=Path, default=get_settings().var_dir / "plan_cpu", help="inputs and caches"
    )
    parser.add_argument(
        "--stages", default=",".join(STAGES), help="run: stages to time (others reuse the cache)"
    )
    parser.add_argument("--cache", type=Path, help="run: cached units and plans here (default --dir)")
    parser.add_argument("--record", type=Path, help="run: write the plans' record here")
    parser.add_argument("--compare", type=Path, help="run: a record of another checkout to compare with")
    parser.add_argument("--profile", type=Path, help="run: cProfile files per district and stage here")
    parser.add_argument("--seed", type=int, default=get_settings().demo_seed)
    args = parser.parse_args()
    districts = args.districts.split(",")
    if args.step == "prepare":
        prepare(args.dir, districts, args.scale, args.seed)
        return 0
    stages, profiler = set(args.stages.split(",")), Profiler(args.profile)
    if args.step == "replay":
        replayed = replay(args.cache or args.dir, districts, args.every, profiler)
        print(json.dumps(replayed | {"loadavg": [round(v, 2) for v in os.getloadavg()]}))
        return 0
    cpu: dict[str, dict[str, float]] = {}
    records: dict[str, Any] = {}
    load = os.getloadavg()[0]
    for code in districts:
        cache = args.cache or args.dir
        cache.mkdir(parents=True, exist_ok=True)
        cpu[code], records[code] = run_district(args.dir, cache, code, stages, profiler, args.seed)
        log(f"{code}: " + ", ".join(f"{stage} {seconds:.1f} CPU s" for stage, seconds in cpu[code].items()))
    if args.record:
        args.record.write_bytes(pickle.dumps(records))
    same = compare(pickle.loads(args.compare.read_bytes()), records) if args.compare else {}
    print_table(cpu, same)
    figures = {
        "cpu_s": {code: {k: round(v, 2) for k, v in stages_cpu.items()} for code, stages_cpu in cpu.items()},
        "identical": all(same.values()) if same else None,
        "different": [key for key, equal in same.items() if not equal],
        "profiled": args.profile is not None,
        "cpu_count": os.cpu_count(),
        "loadavg": [round(load, 2), *[round(value, 2) for value in os.getloadavg()]],
    }
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: point -> grid lookups on the Wuchang demo's grids, SQL against the in-memory index.

Starts everything itself from a fresh checkout (embedded cluster, a copy of the demo database:
bench/common.py) and locates the same random points (90 % inside the district, 10 % anywhere in
its bounding box, so misses happen) four ways, in pairs that do the same job:

  per point  SQL: one query per point (ST_Intersects on the GiST index, GridArea built from the row)
             memory: one call of the API's index per point (STRtree + prepared polygons)
  batch      SQL: one query per batch of 10,000 points (unnest the arrays, join to the grids)
             memory: one vectorised call of the index per batch of 10,000

10,000 is the API's POST /locate/batch limit. Every side builds its result list of GridArea
objects inside the timing, and every side is run 3 times over its whole workload with the median
reported. The headline compares per point with per point and batch with batch. The methods must
agree on every point. Prints a table and, as the last line, a JSON object.
Target: memory batch >= 20,000 points/s.

    .venv/bin/python bench/locate.py [--points 200000] [--single-points 2000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.common import Machine, demo_copy, drop, log
from gis_api.config import get_settings
from gis_api.locate.areas import GridArea
from gis_api.locate.index import NO_GRID, GridIndex, LocateIndexCache
from gis_api.locate.schemas import MAX_BATCH
from gis_api.locate.sql_lookup import locate_batch_sql, locate_point_sql

DATABASE = "wangge_bench_locate"
TARGET_MEMORY_PER_S = 20_000
REPEATS = 3
Areas = list[GridArea | None]


def median_run(action: Callable[[], Areas]) -> tuple[Areas, float]:
    """The result and the median wall seconds of REPEATS runs of `action`."""
    times, result = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def sample_points(index: GridIndex, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random points: 90 % inside the district, 10 % anywhere in its bounding box (misses happen)."""
    min_x, min_y, max_x, max_y = shapely.total_bounds(index.polygons)
    outside_n = count // 10
    lons, lats = np.empty(0), np.empty(0)
    while len(lons) < count - outside_n:
        x, y = rng.uniform(min_x, max_x, count), rng.uniform(min_y, max_y, count)
        keep = np.array([code is not None for code in index.districts_at(x, y)], dtype=bool)
        lons, lats = np.concatenate([lons, x[keep]]), np.concatenate([lats, y[keep]])
    lons = np.concatenate([lons[: count - outside_n], rng.uniform(min_x, max_x, outside_n)])
    lats = np.concatenate([lats[: count - outside_n], rng.uniform(min_y, max_y, outside_n)])
    order = rng.permutation(count)
    return lons[order], lats[order]


def memory_batch(index: GridIndex, lons: np.ndarray, lats: np.ndarray) -> Areas:
    """The index as the API uses it for a batch: one vectorised lookup, then the GridArea list."""
    positions = index.lookup(lons, lats)
    return [index.areas[p] if p != NO_GRID else None for p in positions.tolist()]


def batches(lons: np.ndarray, lats: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(lons[i : i + MAX_BATCH], lats[i : i + MAX_BATCH]) for i in range(0, len(lons), MAX_BATCH)]


def run_benchmark(url: str, points: int, single_points: int, seed: int) -> dict[str, float | int]:
    """Time the four methods on the same random points and count any disagreement."""
    engine = create_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        index = LocateIndexCache().current(session)
        build_s = time.perf_counter() - started
        assert index is not None, "no active plan in the benchmark database"
        lons, lats = sample_points(index, points, np.random.default_rng(seed))
        one_lons, one_lats = lons[:single_points], lats[:single_points]
        log(f"{len(index.areas):,} grids indexed in {build_s:.2f} s; per point: {single_points:,} points x 3")
        sql_one, sql_one_s = median_run(
            lambda: [locate_point_sql(session, x, y) for x, y in zip(one_lons, one_lats, strict=True)]
        )
        mem_one, mem_one_s = median_run(
            lambda: [
                memory_batch(index, one_lons[i : i + 1], one_lats[i : i + 1])[0] for i in range(single_points)
            ]
        )
        log(f"batch: {points:,} points in batches of {MAX_BATCH:,}, x 3")
        chunks = batches(lons, lats)
        sql_all, sql_batch_s = median_run(
            lambda: [a for x, y in chunks for a in locate_batch_sql(session, x.tolist(), y.tolist())]
        )
        mem_all, mem_batch_s = median_run(lambda: [a for x, y in chunks for a in memory_batch(index, x, y)])
    engine.dispose()
    codes = [area.grid_code if area is not None else None for area in mem_all]
    mismatches = sum(a != (b.grid_code if b else None) for a, b in zip(codes, sql_all, strict=True))
    for found in (sql_one, mem_one):
        mismatches += sum(a != (b.grid_code if b else None) for a, b in zip(codes, found, strict=False))
    return {
        "grids": len(index.areas),
        "points": points,
        "single_points": single_points,
        "located": sum(code is not None for code in codes),
        "index_build_s": round(build_s, 3),
        "mismatches": mismatches,
        "sql_per_s": round(single_points / sql_one_s),
        "memory_single_call_per_s": round(single_points / mem_one_s),
        "sql_batch_per_s": round(points / sql_batch_s),
        "memory_per_s": round(points / mem_batch_s),
        "batch_size": MAX_BATCH,
    }


def print_table(figures: dict[str, float | int], machine: Machine) -> None:
    print(f"\n{machine.header()}")
    print(
        f"grids: the Wuchang demo's {figures['grids']:,} grids; {figures['located']:,} of "
        f"{figures['points']:,} points inside a grid; index built in {figures['index_build_s']} s; "
        f"disagreements between methods: {figures['mismatches']}"
    )
    print(f"every row: median of {REPEATS} runs, GridArea results built inside the timing\n")
    head = f"{'method':<52}{'points':>10}{'lookups/s':>14}{'ratio':>8}"
    print(head + "\n" + "-" * len(head))
    one, batch = figures["single_points"], figures["points"]
    rows = [
        ("per point: SQL, one query each", one, figures["sql_per_s"], None),
        ("per point: memory index, one call each", one, figures["memory_single_call_per_s"], "sql_per_s"),
        (f"batch of {MAX_BATCH:,}: SQL, unnest + join", batch, figures["sql_batch_per_s"], None),
        (
            f"batch of {MAX_BATCH:,}: memory index, vectorised",
            batch,
            figures["memory_per_s"],
            "sql_batch_per_s",
        ),
    ]
    for name, count, per_s, versus in rows:
        ratio = f"{per_s / figures[versus]:.1f}x" if versus else ""
        print(f"{name:<52}{count:>10,}{per_s:>14,}{ratio:>8}")
    met = "met" if figures["memory_per_s"] >= TARGET_MEMORY_PER_S else "MISSED"
    print(f"target memory batch >= {TARGET_MEMORY_PER_S:,}/s: {met}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--single-points", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="20,000 and 300 points (development only)")
    args = parser.parse_args()
    if args.quick:
        args.points, args.single_points = 20_000, 300
    machine = Machine()
    url = demo_copy(DATABASE)
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        engine.dispose()
        figures = run_benchmark(url, args.points, args.single_points, get_settings().demo_seed)
    finally:
        drop(DATABASE)
    print_table(figures, machine)
    figures["per_point_speedup"] = round(figures["memory_single_call_per_s"] / figures["sql_per_s"], 1)
    figures["batch_speedup"] = round(figures["memory_per_s"] / figures["sql_batch_per_s"], 1)
    print(json.dumps({**figures, "source": "Wuchang demo grids", **machine.figures()}))
    return 0 if figures["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

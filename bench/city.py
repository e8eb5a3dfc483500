"""Benchmark: Wuhan's 13 districts (about 5 million households) on one deployment, planned on Dask.

Starts what it needs from a fresh checkout: the embedded PostGIS cluster, a database of its own
(wangge_bench_city), the migrations. Then, side by side with what a city deployment does:
  1. load_s          generate and store the city (the code of `wangge demo --city`)
  2. redistrict_s    every district's communities and grids on ONE Dask LocalCluster (2 worker
                     processes x 1 thread), stored as each district's draft (`wangge redistrict --city`),
                     with Dask's task stream: each worker's busy share of the wall, compute seconds
                     per task kind, the longest task
  3. same_plan_local_vs_dask   the same run on local processes (not stored; the city, or the
                     districts of --local-districts); every household's grid code compared between
                     the two runs. Wall and CPU seconds of the whole process tree are reported for
                     each stage: on a shared machine CPU / wall says how many cores the run got
  4. peak_rss_mb     the process tree (this process, the generator pool, the Dask nanny/workers),
                     sampled every 0.5 s; PostgreSQL separately (pg_peak_pss_mb, proportional set
                     size so shared buffers count once)
  5. serving         the API (uvicorn, 1 process, loopback) as city-scope accounts: household tiles
                     z14-16 at random tiles holding households across the city (cold, p95), the
                     in-memory point -> grid index over every active grid (locate_per_s), then a
                     case history of --months at Wuhan's published rate (190,000 cases a month)
                     and the command centre's counters and case list at city scope (p95 of 50),
                     KPIs and the street ranking (p50 of 5, extra rows).
Prints a table and, as the last line, a JSON object with os.getloadavg() (the machine is shared).

    .venv/bin/python bench/city.py [--scale 1.0] [--districts 420102,420113] [--skip-load]
                                   [--skip-local | --local-districts 420113,420104] [--months 3]
                                   [--reuse-drafts]   (with --skip-load: plans of an earlier run)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from boundaries.executor import DaskExecutor, ProcessExecutor
from gis_api.auth.service import create_user
from gis_api.cases.service import now_utc
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.city.load import load_city
from gis_api.locate.index import build_index, plan_fingerprint
from gis_api.redistrict.city import CityReport, DistrictDraft, redistrict_city
from gis_api.redistrict.service import RedistrictOptions
from gis_api.simulate.history import HistoryReport, monthly_cases, write_history

DATABASE = "wangge_bench_city"
LOOPBACK = "127.0.0.1"
CITY = "4201"
TARGETS = {
    "load_s": ("<=", 600.0),
    "redistrict_s": ("<=", 600.0),
    "peak_rss_mb": ("<=", 8000.0),
    "tile_p95_ms": ("<=", 50.0),
    "locate_per_s": (">=", 20000.0),
    "city_counters_ms": ("<=", 200.0),
    "city_case_list_ms": ("<=", 200.0),
}
ZOOMS = (14, 15, 16)
TILES_PER_ZOOM = 100
PASSWORD = "bench-city-password"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


class TreeMemory:
    """Peak memory of this process tree (RSS summed) and of PostgreSQL (PSS summed), sampled."""

    def __init__(self, postmaster: int | None, interval_s: float = 0.5) -> None:
        self.postmaster = psutil.Process(postmaster) if postmaster else None
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self.pg_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _sum(me, lambda p: p.memory_info().rss))
            if self.postmaster is not None:
                self.pg_peak_mb = max(
                    self.pg_peak_mb, _sum(self.postmaster, lambda p: p.memory_full_info().pss)
                )
            self._stop.wait(self.interval_s)


def _sum(root: psutil.Process, measure: Callable[[psutil.Process], int]) -> float:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += measure(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return total / 2**20


def tree_cpu_s() -> float:
    """CPU seconds of this process tree so far: live processes, plus the children they reaped
    (a finished process pool); the Dask workers are children of this process."""
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@contextmanager
def timed(figures: dict[str, Any], key: str) -> Iterator[None]:
    """Wall seconds of the block, and CPU seconds of this process and of the whole tree: on a shared
    machine the tree's CPU over the wall time says how many of the cores the run actually got."""
    started = time.perf_counter()
    cpu, tree = time.process_time(), tree_cpu_s()
    yield
    figures[key] = round(time.perf_counter() - started, 1)
    figures[key.replace("_s", "_main_cpu_s")] = round(time.process_time() - cpu, 1)
    figures[key.replace("_s", "_tree_cpu_s")] = round(tree_cpu_s() - tree, 1)
    log(
        f"{key}: {figures[key]} s, {figures[key.replace('_s', '_tree_cpu_s')]} CPU s "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


def postmaster_pid(cluster: EmbeddedCluster) -> int | None:
    """The embedded server's process (its children are the backends)."""
    pid_file = cluster.data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def assignments(report: CityReport) -> dict[str, dict[int, str]]:
    return {
        draft.district: dict(
            zip(draft.assignment["household_id"], draft.assignment["grid_code"], strict=True)
        )
        for draft in report.drafts
    }


def redistrict(
    engine: Engine,
    options: RedistrictOptions,
    figures: dict[str, Any],
    compare: bool,
    local_districts: list[str] | None = None,
    reuse: bool = False,
) -> None:
    """The city on one Dask LocalCluster (stored), then on local processes (compared, not stored):
    the whole city, or only `local_districts` (a district's plan does not depend on the others, see
    tests/redistrict/test_city.py), compared with the same districts of the Dask run.
    The cluster starts before the clock does: a deployment keeps its cluster running.
    With `reuse`, the Dask run is the drafts an earlier run stored (no redistrict_s)."""
    if reuse:
        dask = stored_drafts(engine)
        figures["redistrict_s"] = None
        figures["redistrict_reused_plans"] = [draft.plan_id for draft in dask.drafts]
    else:
        dask = dask_run(engine, options, figures)
    log(str(dask))
    figures.update({k: round(v, 4) for k, v in dask.figures().items()})
    figures["redistrict_stages_s"] = {k: round(v, 1) for k, v in dask.timings_s.items()}
    figures["communities"] = sum(count(d.metrics, "communities") for d in dask.drafts)
    figures["grids"] = sum(count(d.metrics, "grids") for d in dask.drafts)
    figures["same_plan_local_vs_dask"] = None
    if compare:
        local = redistrict_on(
            engine, options, figures, "redistrict_local_s", ProcessExecutor(2), False, local_districts
        )
        compared = assignments(local)
        figures["same_plan_local_vs_dask"] = compared == {
            district: plan for district, plan in assignments(dask).items() if district in compared
        }
        figures["same_plan_districts"] = sorted(compared)
        figures["same_plan_households"] = sum(len(plan) for plan in compared.values())


def dask_run(engine: Engine, options: RedistrictOptions, figures: dict[str, Any]) -> CityReport:
    """The whole city on a loopback LocalCluster of 2 worker processes x 1 thread, stored, with
    Dask's task stream recorded: how busy each worker was over the run (the rest is this process
    reading and storing, or waiting on a long task)."""
    from distributed import Client, LocalCluster, get_task_stream

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster.scheduler_address) as client,
        get_task_stream(client=client) as stream,
    ):
        report = redistrict_on(
            engine, options, figures, "redistrict_s", DaskExecutor(cluster.scheduler_address)
        )
    figures.update(worker_busy(stream.data, figures["redistrict_s"]))
    return report


def worker_busy(tasks: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """Per worker, the share of the run's wall time it spent computing tasks; the longest task and
    the compute seconds per task kind (units, subproblems, polygons)."""
    busy: dict[str, float] = {}
    kinds: dict[str, float] = {}
    longest = (0.0, "")
    for task in tasks:
        kind = str(task["key"]).split("-")[0]
        for span in task["startstops"]:
            if span["action"] == "compute":
                seconds = span["stop"] - span["start"]
                busy[task["worker"]] = busy.get(task["worker"], 0.0) + seconds
                kinds[kind] = kinds.get(kind, 0.0) + seconds
                longest = max(longest, (seconds, kind))
    log(
        f"workers busy {sorted(round(b / wall_s, 3) for b in busy.values())} of {wall_s} s; compute s {kinds}"
    )
    return {
        "redistrict_worker_busy_share": sorted(round(b / wall_s, 3) for b in busy.values()),
        "redistrict_compute_s": {kind: round(seconds, 1) for kind, seconds in kinds.items()},
        "redistrict_longest_task_s": [round(longest[0], 1), longest[1]],
    }


DRAFTS_SQL = """
SELECT DISTINCT ON (district_code) id, district_code, metrics FROM plan
WHERE status = 'draft' AND district_code LIKE :city || '%' ORDER BY district_code, id DESC
"""
ASSIGNMENT_SQL = """
SELECT a.household_id, g.code AS grid_code FROM plan_assignment a JOIN grid g ON g.id = a.grid_id
WHERE a.plan_id = :plan ORDER BY a.household_id
"""


def stored_drafts(engine: Engine) -> CityReport:
    """The newest draft of every district of the city (what an earlier run stored), as a report."""
    with engine.connect() as connection:
        rows = connection.execute(text(DRAFTS_SQL), {"city": CITY}).all()
        if not rows:
            raise SystemExit("--reuse-drafts: no draft plan is stored; run without it first")
        drafts = [
            DistrictDraft(
                district,
                plan_id,
                metrics,
                pd.read_sql(text(ASSIGNMENT_SQL), connection, params={"plan": plan_id}),
            )
            for plan_id, district, metrics in rows
        ]
    return CityReport(CITY, drafts)


def redistrict_on(
    engine: Engine,
    options: RedistrictOptions,
    figures: dict[str, Any],
    key: str,
    executor: DaskExecutor | ProcessExecutor,
    store: bool = True,
    districts: list[str] | None = None,
) -> CityReport:
    with timed(figures, key):
        return redistrict_city(
            engine, CITY, options, districts=districts, store=store, executor=executor, progress=log
        )


def count(metrics: dict[str, object], level: str) -> int:
    """Districts (communities or grids) of one level in a plan's metrics."""
    figures = metrics[level]
    assert isinstance(figures, dict)
    return int(figures["districts"])


def tiles_to_ask(engine: Engine, rng: np.random.Generator) -> dict[int, list[tuple[int, int]]]:
    """TILES_PER_ZOOM random tiles per zoom among those holding households (random households' tiles)."""
    with engine.connect() as connection:
        high = connection.execute(text("SELECT max(id) FROM household")).scalar_one()
        ids = rng.integers(1, int(high) + 1, size=TILES_PER_ZOOM * 3).tolist()
        points = connection.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM household WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()
    chosen: dict[int, list[tuple[int, int]]] = {}
    for z in ZOOMS:
        n = 2**z
        found = {
            (int((lon + 180) / 360 * n), int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n))
            for lon, lat in points
        }
        chosen[z] = sorted(found)[:TILES_PER_ZOOM]
    return chosen


def p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def timed_calls(
    client: httpx.Client, url: str, count: int, params: dict[str, str] | None = None
) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(url, params=params).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return times


def login(client: httpx.Client, username: str) -> None:
    token = client.post("/auth/token", data={"username": username, "password": PASSWORD}).json()[
        "access_token"
    ]
    client.headers["Authorization"] = f"Bearer {token}"


def serving(
    engine: Engine, url: str, figures: dict[str, Any], months: float, rng: np.random.Generator
) -> None:
    """Tiles, locate, then cases: counters and list at city scope over months of cases."""
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        for username, role in (("bench_city_admin", "admin"), ("bench_city_operator", "city_operator")):
            session.execute(text("DELETE FROM app_user WHERE username = :u"), {"u": username})
            create_user(session, username, PASSWORD, role, CITY)
        session.commit()
    with Session(engine) as session:
        started = time.perf_counter()
        index = build_index(session, plan_fingerprint(session) or ())
        figures["locate_index_build_s"] = round(time.perf_counter() - started, 2)
    with engine.connect() as connection:
        sample = connection.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM household TABLESAMPLE SYSTEM (5) LIMIT 200000")
        ).all()
    lons, lats = np.array([s[0] for s in sample]), np.array([s[1] for s in sample])
    started = time.perf_counter()
    found = index.lookup(lons, lats)
    figures["locate_per_s"] = round(len(lons) / (time.perf_counter() - started))
    figures["locate_found_share"] = round(float((found >= 0).mean()), 4)
    api, base = start_api(url)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            login(client, "bench_city_admin")
            tile_times: dict[int, list[float]] = {z: [] for z in ZOOMS}
            for z, tiles in tiles_to_ask(engine, rng).items():
                for x, y in tiles:
                    tile_times[z].extend(timed_calls(client, f"/tiles/households/{z}/{x}/{y}.mvt", 1))
            cold = [ms for values in tile_times.values() for ms in values]
            figures["tile_p95_ms"] = p(cold, 95)
            figures["tile_p50_ms"] = p(cold, 50)
            figures["tiles"] = len(cold)
            report = city_history(engine, months, now_utc(), rng, figures)
            with engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("ANALYZE incident, case_event")
                )
            figures["cases"], figures["open_cases"] = report.cases, report.open
            login(client, "bench_city_operator")
            timed_calls(client, "/cases/counters", 3)  # warm the connection pool
            figures["city_counters_ms"] = p(timed_calls(client, "/cases/counters", 50), 95)
            figures["city_case_list_ms"] = p(timed_calls(client, "/cases?limit=100", 50), 95)
            now = now_utc()
            month = now.strftime("%Y-%m")
            last_month = {
                "level": "street",
                "start": (now - timedelta(days=30)).isoformat(),
                "end": now.isoformat(),
            }
            figures["city_kpis_street_ms"] = p(timed_calls(client, "/assessment/kpis", 5, last_month), 50)
            figures["city_ranking_ms"] = p(
                timed_calls(client, f"/assessment/streets/ranking?month={month}", 5), 50
            )
    finally:
        api.terminate()
        api.wait(timeout=10)


def city_history(
    engine: Engine, months: float, now: datetime, rng: np.random.Generator, figures: dict[str, Any]
) -> HistoryReport:
    """A case history of `months` at Wuhan's published rate over the city's households, ending at
    `now` (figures: history_write_s). Shared with bench/city_kpi.py."""
    with engine.begin() as connection:
        households = int(connection.execute(text("SELECT count(*) FROM household")).scalar_one())
        cases = round(monthly_cases(households) * months)
        log(f"writing a case history: {cases:,} cases over {months:g} months")
        started = time.perf_counter()
        report = write_history(
            connection, prefix=CITY, days=months * 30.4, cases=cases, now=now, rng=rng, progress=log
        )
        figures["history_write_s"] = round(time.perf_counter() - started, 1)
    log(str(report))
    return report


def print_table(figures: dict[str, Any]) -> None:
    """The figures with their targets, met or missed."""
    rows = [
        ("districts", figures.get("districts")), ("households", figures.get("households")),
        ("load_s", figures.get("load_s")), ("redistrict_s", figures.get("redistrict_s")),
        ("redistrict_local_s", figures.get("redistrict_local_s")),
        ("same_plan_local_vs_dask", figures.get("same_plan_local_vs_dask")),
        ("same_plan_households", figures.get("same_plan_households")),
        ("redistrict_tree_cpu_s", figures.get("redistrict_tree_cpu_s")),
        ("peak_rss_mb", figures.get("peak_rss_mb")), ("pg_peak_pss_mb", figures.get("pg_peak_pss_mb")),
        ("community_dev_max", figures.get("community_dev_max")),
        ("grid_share_within_10pct", figures.get("grid_share_within_10pct")),
        ("tile_p95_ms", figures.get("tile_p95_ms")), ("locate_per_s", figures.get("locate_per_s")),
        ("cases", figures.get("cases")), ("city_counters_ms", figures.get("city_counters_ms")),
        ("city_case_list_ms", figures.get("city_case_list_ms")),
        ("city_kpis_street_ms (p50, extra)", figures.get("city_kpis_street_ms")),
        ("city_ranking_ms (p50, extra)", figures.get("city_ranking_ms")),
    ]  # fmt: skip
    print(f"\n{'figure':<34}{'value':>16}  target")
    for name, value in rows:
        key = name.split(" ")[0]
        target = TARGETS.get(key)
        verdict = ""
        if target is not None and isinstance(value, int | float):
            op, limit = target
            met = value <= limit if op == "<=" else value >= limit
            verdict = f"{op} {limit:g} {'met' if met else 'MISSED'}"
        shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        print(f"{name:<34}{shown:>16}  {verdict}")
    load = figures["loadavg"]
    print(
        f"machine: {figures['cpu_count']} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="households times this (development runs)")
    parser.add_argument("--districts", help="comma-separated district codes (default: all 13)")
    parser.add_argument("--months", type=float, default=3.0, help="months of cases for the serving figures")
    parser.add_argument("--skip-load", action="store_true", help="reuse the benchmark database as it is")
    parser.add_argument("--skip-local", action="store_true", help="do not repeat the plan on local processes")
    parser.add_argument(
        "--reuse-drafts",
        action="store_true",
        help="take the Dask run's plans from the drafts an earlier run stored (no redistrict_s)",
    )
    parser.add_argument(
        "--local-districts",
        help="repeat only these districts on local processes (comma-separated codes; default: the city)",
    )
    parser.add_argument("--seed", type=int, default=get_settings().demo_seed)
    args = parser.parse_args()
    settings = get_settings()
    cluster = EmbeddedCluster(settings.var_dir)
    cluster.ensure_running()
    if not args.skip_load:
        cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE, exist_ok=True)
    engine = create_engine(url)
    migrate.upgrade(engine)
    figures: dict[str, Any] = {}
    districts = args.districts.split(",") if args.districts else None
    rng = np.random.default_rng(args.seed)
    with TreeMemory(postmaster_pid(cluster)) as memory:
        if not args.skip_load:
            with timed(figures, "load_s"):
                summary = load_city(engine, args.seed, scale=args.scale, districts=districts, progress=log)
            log(str(summary))
        options = RedistrictOptions(seed=args.seed)
        local_districts = args.local_districts.split(",") if args.local_districts else None
        redistrict(engine, options, figures, not args.skip_local, local_districts, args.reuse_drafts)
        figures["planning_peak_rss_mb"] = round(memory.peak_mb)
        serving(engine, url, figures, args.months, rng)
        figures["peak_rss_mb"] = round(memory.peak_mb)
        figures["pg_peak_pss_mb"] = round(memory.pg_peak_mb)
    with engine.connect() as connection:
        figures["districts"] = int(connection.execute(text("SELECT count(*) FROM district")).scalar_one())
        figures["households"] = int(connection.execute(text("SELECT count(*) FROM household")).scalar_one())
    engine.dispose()
    figures["cpu_count"] = os.cpu_count()
    figures["loadavg"] = [round(value, 2) for value in os.getloadavg()]
    figures["targets"] = {key: f"{op} {limit:g}" for key, (op, limit) in TARGETS.items()}
    figures["missed"] = [
        key for key, (op, limit) in TARGETS.items()
        if isinstance(figures.get(key), int | float)
        and not (figures[key] <= limit if op == "<=" else figures[key] >= limit)
    ]  # fmt: skip
    print_table(figures)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

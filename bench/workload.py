"""Benchmark: household-only grids against workload-aware grids, judged by a replayed year of cases.

From a fresh checkout: its own database in the embedded cluster (wangge_bench_workload, dropped
and reloaded), the Wuchang demo, a simulated year of cases (`wangge simulate --year`, seed fixed),
then three redistrictings of the demo with the official community codes:
  - households: today's optimiser (balance households), the peer as its users run it;
  - both: households within ±15 % of 300 while evening out workload (the workload-aware plan);
  - workload: work alone in household-equivalents (extra row: households then drift freely).
Each plan is replayed on the same year (`wangge plan replay`). Printed: a table, then one JSON line.
Targets: workload max/mean of the workload-aware plan <= 1.15; one plan's replay <= 30 s.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine

from gis_api.cases.calendar import default_calendar
from gis_api.cases.kpi import Period
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.load import load_demo
from gis_api.redistrict.service import RedistrictOptions, redistrict
from gis_api.routing.engine import RoadGraph
from gis_api.simulate.year_store import YearOptions, simulate_year
from gis_api.workload.replay import PlanReplay, replay_plan

DATABASE = "wangge_bench_workload"
DISTRICT = "420106"
YEAR = date(2025, 1, 1)
SEED = 20250101
TOLERANCE = 0.15
GRID_TARGET = 300.0
OFFICIAL = Path(__file__).resolve().parent.parent / "data" / "wuchang" / "nbs2023_communities.csv"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def fresh_engine() -> Engine:
    settings = get_settings()
    cluster = EmbeddedCluster(settings.var_dir)
    cluster.ensure_running()
    cluster.drop_database(DATABASE)
    engine = create_engine(cluster.create_database(DATABASE))
    migrate.upgrade(engine)
    load_demo(engine, seed=settings.demo_seed, progress=log)
    return engine


def draw(engine: Engine, balance: str, period: Period) -> tuple[int, float]:
    """A draft of the demo district balancing `balance`; (plan id, seconds)."""
    options = RedistrictOptions(
        official_codes=OFFICIAL, seed=get_settings().demo_seed, name=f"bench {balance}", district=DISTRICT,
        balance=balance, household_tolerance=TOLERANCE, workload_period=period,
    )  # fmt: skip
    started = time.perf_counter()
    report = redistrict(engine, options, progress=lambda line: None)
    log(f"{balance}: plan {report.plan_id} in {time.perf_counter() - started:.0f} s")
    return report.plan_id, time.perf_counter() - started


def replay(engine: Engine, plan_id: int, period: Period, graph: RoadGraph) -> tuple[PlanReplay, float]:
    started = time.perf_counter()
    with engine.connect() as connection:
        result = replay_plan(connection, plan_id, period, graph)
    return result, time.perf_counter() - started


def figures(result: PlanReplay, seconds: float) -> dict[str, Any]:
    households = np.array([row.households for row in result.grids], dtype=float)
    return {
        **{k: result.summary[k] for k in ("grids", "vacant_grids", "workload_max_over_mean", "workload_cv")},
        "household_dev_max": round(float(np.abs(households / GRID_TARGET - 1).max()), 4),
        "household_share_within_15pct": round(
            float(np.mean(np.abs(households / GRID_TARGET - 1) <= TOLERANCE)), 4
        ),
        **{k: result.summary[k] for k in ("eta_p50_s", "eta_p90_s", "on_time_share")},
        "replay_s": round(seconds, 2),
    }


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    columns = list(next(iter(rows.values())))
    print(f"{'plan':<22}" + "".join(f"{c:>16}" for c in columns))
    for name, row in rows.items():
        print(f"{name:<22}" + "".join(f"{_cell(row[c]):>16}" for c in columns))


def _cell(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> int:
    load_before = os.getloadavg()
    started = time.perf_counter()
    engine = fresh_engine()
    zone = default_calendar().zone
    period = Period.of(datetime(2025, 1, 1, tzinfo=zone), datetime(2026, 1, 1, tzinfo=zone))
    year = simulate_year(engine, YearOptions(district=DISTRICT, since=YEAR, seed=SEED), progress=log)
    log(str(year))
    plans = {balance: draw(engine, balance, period) for balance in ("households", "both", "workload")}
    with engine.connect() as connection:
        graph = RoadGraph.from_connection(connection, DISTRICT)
    rows: dict[str, dict[str, Any]] = {}
    names = {
        "households": "households (peer)",
        "both": "workload-aware (both)",
        "workload": "workload only (extra)",
    }
    for balance, (plan_id, _) in plans.items():
        result, seconds = replay(engine, plan_id, period, graph)
        rows[names[balance]] = figures(result, seconds)
    print_table(rows)
    peer, ours = rows[names["households"]], rows[names["both"]]
    summary = {
        "cases": year.inserted,
        "workload_max_over_mean_households_plan": peer["workload_max_over_mean"],
        "workload_max_over_mean_workload_plan": ours["workload_max_over_mean"],
        "workload_max_over_mean_workload_only_plan": rows[names["workload"]]["workload_max_over_mean"],
        "household_dev_max_workload_plan": ours["household_dev_max"],
        "household_tolerance": TOLERANCE,
        "eta_p90_s_households_plan": peer["eta_p90_s"],
        "eta_p90_s_workload_plan": ours["eta_p90_s"],
        "on_time_share_households_plan": peer["on_time_share"],
        "on_time_share_workload_plan": ours["on_time_share"],
        "replay_s": peer["replay_s"],  # the first replay: includes the patrol tree of the district
        "replay_s_warm": ours["replay_s"],
        "redistrict_s": {b: round(s, 1) for b, (_, s) in plans.items()},
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())

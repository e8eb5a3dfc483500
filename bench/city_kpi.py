"""Benchmark: the command centre's KPIs and street ranking at city scope, before vs after the
stored case tallies (migration 0015), over months of a city's cases.

Starts what it needs from a fresh checkout: the embedded cluster, a database of its own
(wangge_bench_city_kpi), the migrations; generates Wuhan's 13 districts (`wangge demo --city`'s
code, --scale of its households) and a case history of --months at Wuhan's published rate
(190,000 cases a month for 5 million households, scaled), with the tallies computed once at the
end of the bulk write. Then, as a city_operator (scope 4201) over HTTP on loopback, the same
requests against two APIs on the same database, one after the other:
  - after:  this checkout (stored month, day and case tallies; the grid-worker facts summed per unit
            in one query, gis_api/cases/kpi_facts.py)
  - before: the code before it (--before REV, default main's 937e006, unpacked with git archive),
            which reads every case of the period with its events per request (the naive row)
Requests: KPIs per street for this month so far (what the command centre's panel asks), for the
last 30 days (what bench/city.py asks: months, days and partial days), per grid for the previous
month, and the ranking of this month and of the previous month. Each answer of the two sides is
compared (identical JSON). p50 and p95 over --calls calls (after) and --before-calls (before).
Prints a table and, last, a JSON line with the core count and the load average (shared machine).

    .venv/bin/python bench/city_kpi.py [--scale 1.0] [--months 3] [--calls 20] [--before-calls 3]
                                       [--skip-load] [--before REV | --no-before]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.city import city_history
from bench.security import code_of
from gis_api.auth.service import create_user
from gis_api.cases.calendar import default_calendar
from gis_api.cases.service import now_utc
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.city.load import load_city

DATABASE = "wangge_bench_city_kpi"
CITY = "4201"
USER, PASSWORD = "bench_kpi_city", "bench-kpi-password"
TARGET_MS = 200.0


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def requests_to_time(now: datetime) -> dict[str, tuple[str, dict[str, str]]]:
    """name -> (path, query) of the requests measured, in Beijing months."""
    zone = default_calendar().zone
    local = now.astimezone(zone)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (month_start - timedelta(days=1)).replace(day=1)
    return {
        "kpis_street_this_month": (
            "/assessment/kpis",
            {"level": "street", "start": month_start.isoformat(), "end": now.isoformat()},
        ),
        "kpis_street_last_30_days": (
            "/assessment/kpis",
            {"level": "street", "start": (now - timedelta(days=30)).isoformat(), "end": now.isoformat()},
        ),
        "kpis_grid_last_month": (
            "/assessment/kpis",
            {"level": "grid", "start": previous.isoformat(), "end": month_start.isoformat()},
        ),
        "ranking_this_month": ("/assessment/streets/ranking", {"month": local.strftime("%Y-%m")}),
        "ranking_last_month": ("/assessment/streets/ranking", {"month": previous.strftime("%Y-%m")}),
    }


def load(engine: Engine, scale: float, months: float, seed: int, figures: dict[str, Any]) -> datetime:
    """The city and its case history; returns the history's `now`."""
    started = time.perf_counter()
    summary = load_city(engine, seed, scale=scale, progress=log)
    figures["load_s"] = round(time.perf_counter() - started, 1)
    log(str(summary))
    now = now_utc()
    city_history(engine, months, now, np.random.default_rng(seed), figures)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return now


def city_facts(engine: Engine, figures: dict[str, Any]) -> None:
    with engine.connect() as connection:
        one = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM district), (SELECT count(*) FROM household), "
                "(SELECT count(*) FROM incident), (SELECT count(*) FROM case_event), "
                "(SELECT count(*) FROM case_kpi_month), (SELECT count(*) FROM case_kpi_day), "
                "(SELECT count(*) FROM street)"
            )
        ).one()
    keys = ("districts", "households", "cases", "events", "month_rows", "day_rows", "streets")
    figures.update(dict(zip(keys, (int(v) for v in one), strict=True)))


def ensure_user(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        session.execute(text("DELETE FROM app_user WHERE username = :u"), {"u": USER})
        create_user(session, USER, PASSWORD, "city_operator", CITY)
        session.commit()


def measure_side(
    base: str, requests: dict[str, tuple[str, dict[str, str]]], calls: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Milliseconds per call and the last answer (without its generation time) of each request."""
    times: dict[str, list[float]] = {}
    answers: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=600) as client:
        token = client.post("/auth/token", data={"username": USER, "password": PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        client.get("/cases/counters").raise_for_status()  # warm the pool
        for name, (path, query) in requests.items():
            times[name] = []
            for _ in range(calls):
                started = time.perf_counter()
                response = client.get(path, params=query)
                response.raise_for_status()
                times[name].append((time.perf_counter() - started) * 1000)
            answers[name] = response.json()
            log(f"{name}: p50 {p(times[name], 50)} ms over {calls}")
    return times, answers


def run_side(
    url: str, code: Path, requests: dict[str, tuple[str, dict[str, str]]], calls: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    env = {"PYTHONPATH": str(code), "WANGGE_BASEMAP_URL": ""}
    api, base = start_api(url, cwd=code, extra_env=env)
    try:
        return measure_side(base, requests, calls)
    finally:
        api.terminate()
        api.wait(timeout=10)


def print_table(figures: dict[str, Any], names: list[str]) -> None:
    print(f"\n{'request (city scope, ms)':<28}{'before p50':>12}{'before p95':>12}{'after p50':>11}"
          f"{'after p95':>11}  identical")  # fmt: skip
    for name in names:
        row = figures["requests"][name]
        before = row.get("before_p50", "-"), row.get("before_p95", "-")
        print(
            f"{name:<28}{before[0]!s:>12}{before[1]!s:>12}{row['after_p50']!s:>11}{row['after_p95']!s:>11}"
            f"  {row.get('identical', '-')}"
        )
    keys = ("districts", "households", "cases", "events", "month_rows", "day_rows")
    print("  ".join(f"{key} {figures.get(key, 0):,}" for key in keys))
    load = figures["loadavg"]
    verdict = "met" if not figures["missed"] else f"MISSED by {', '.join(figures['missed'])}"
    print(f"target: after p95 <= {TARGET_MS:g} ms: {verdict}")
    averages = " / ".join(f"{value:.1f}" for value in load)
    print(f"machine: {figures['cpu_count']} cores, load average {averages}")


def differences(after: Any, before: Any, path: str = "") -> list[str]:
    """Where two answers differ, as 'path: after != before' (at most 20)."""
    if isinstance(after, dict) and isinstance(before, dict):
        keys = sorted(set(after) | set(before))
        found = [d for k in keys for d in differences(after.get(k), before.get(k), f"{path}.{k}")]
    elif isinstance(after, list) and isinstance(before, list) and len(after) == len(before):
        found = [
            d
            for n, (a, b) in enumerate(zip(after, before, strict=True))
            for d in differences(a, b, f"{path}[{n}]")
        ]
    else:
        found = [] if after == before else [f"{path}: {after!r} != {before!r}"]
    return found[:20]


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--scale", type=float, default=1.0, help="households times this (development runs)")
    parser.add_argument("--months", type=float, default=3.0, help="months of cases")
    parser.add_argument("--calls", type=int, default=20, help="calls per request on this checkout")
    parser.add_argument("--before-calls", type=int, default=3, help="calls per request on the old code")
    parser.add_argument("--before", default="937e006", help="git revision of the code before the tallies")
    parser.add_argument("--no-before", action="store_true", help="measure this checkout only")
    parser.add_argument("--skip-load", action="store_true", help="reuse the benchmark database as it is")
    parser.add_argument("--seed", type=int, default=get_settings().demo_seed)
    args = parser.parse_args()
    figures: dict[str, Any] = {"scale": args.scale, "months": args.months}
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    if not args.skip_load:
        cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE, exist_ok=True)
    engine = create_engine(url)
    migrate.upgrade(engine)
    if args.skip_load:
        with engine.connect() as connection:
            now = connection.execute(text("SELECT max(created_at) FROM incident")).scalar_one()
    else:
        now = load(engine, args.scale, args.months, args.seed, figures)
    city_facts(engine, figures)
    ensure_user(engine)
    engine.dispose()
    requests = requests_to_time(now)
    log("after: this checkout")
    after_times, after = run_side(url, Path(__file__).resolve().parent.parent, requests, args.calls)
    rows: dict[str, dict[str, Any]] = {
        name: {"after_p50": p(t, 50), "after_p95": p(t, 95), "after_calls": len(t)}
        for name, t in after_times.items()
    }
    if not args.no_before:
        code = code_of(args.before)
        log(f"before: {args.before} unpacked in {code}")
        before_times, before = run_side(url, code, requests, args.before_calls)
        subprocess.run(["rm", "-rf", str(code)], check=False)
        for name, values in before_times.items():
            rows[name].update(before_p50=p(values, 50), before_p95=p(values, 95), before_calls=len(values))
            rows[name]["identical"] = after[name] == before[name]
            rows[name]["differences"] = differences(after[name], before[name])
    figures["requests"] = rows
    figures["before_revision"] = None if args.no_before else args.before
    figures["missed"] = [n for n, row in rows.items() if row["after_p95"] > TARGET_MS]
    figures["all_identical"] = all(row.get("identical", True) for row in rows.values())
    figures["cpu_count"] = os.cpu_count()
    figures["loadavg"] = [round(value, 2) for value in os.getloadavg()]
    print_table(figures, list(requests))
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

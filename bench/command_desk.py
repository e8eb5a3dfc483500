"""Benchmark: the command centre's search box and heatmap on the Wuchang demo.

Starts the embedded PostGIS cluster and the API (uvicorn, one process, loopback) against the default
database, loading the demo first when it is absent (cases come from `wangge simulate`; with none the
heatmap rows measure an empty period). As the district admin it measures:
  - GET /search?q=  for road, building, area names and codes over HTTP,
  - the search service's SQL in-process with the pg_trgm GIN and prefix indexes, and the same
    with index scans switched off in the session (naive: ILIKE by sequential scan, as without
    the migration's indexes),
  - GET /analytics/heatmap?days=90 (hexagon bins counted in SQL) against the naive client-side
    heatmap it replaced: paging every case of the period through GET /cases?limit=500.
Prints a table and, as the last line, a JSON object. Target: search p95 <= 100 ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.tiles import demo_password, ensure_demo
from gis_api.auth.service import active_principal
from gis_api.db.session import default_engine
from gis_api.search.service import search

TARGET_P95_MS = 100.0
ROUNDS = 5
QUERIES = ("中山路", "武昌", "积玉桥", "大学", "小区", "社区", "420106011", "4201060110", "街道", "医院")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(client: httpx.Client, path: str, **params: object) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, response


def search_times(client: httpx.Client) -> tuple[list[float], int]:
    times, hits = [], 0
    for _ in range(ROUNDS):
        for query in QUERIES:
            ms, response = timed(client, "/search", q=query)
            times.append(ms)
            hits += len(response.json()["items"])
    return times, hits // ROUNDS


def paged_cases(client: httpx.Client) -> tuple[float, int, int]:
    """The naive heatmap: every case of the last 90 days paged into the client."""
    started, count, size, before = time.perf_counter(), 0, 0, None
    while True:
        params = {"limit": 500, **({"before_id": before} if before else {})}
        _, response = timed(client, "/cases", **params)
        page = response.json()
        count, size = count + page["count"], size + len(response.content)
        before = page["next_before_id"]
        if not before:
            return (time.perf_counter() - started) * 1000, count, size


def search_in_process(no_index: bool) -> list[float]:
    """The search service's SQL in one session, optionally with index scans switched off (naive:
    ILIKE by sequential scan, as without the migration's trigram and prefix indexes)."""
    engine = default_engine()
    times = []
    with Session(engine) as session:
        user_id = session.execute(text("SELECT id FROM app_user WHERE username = 'admin'")).scalar_one()
        principal = active_principal(session, user_id)
        if no_index:
            session.execute(text("SET enable_indexscan = off; SET enable_bitmapscan = off"))
        for _ in range(ROUNDS):
            for query in QUERIES:
                started = time.perf_counter()
                search(session, principal, query)
                times.append((time.perf_counter() - started) * 1000)
        session.rollback()
    return times


def main() -> None:
    engine = default_engine()
    ensure_demo(engine)
    process, base = start_api()
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            token = client.post("/auth/token", data={"username": "admin", "password": demo_password("admin")})
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            rows = run(client)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print_table(rows)
    search = rows[0]
    print(json.dumps({"bench": "command_desk", "target_search_p95_ms": TARGET_P95_MS, "rows": rows,
                      "search_p95_within_target": search["p95_ms"] <= TARGET_P95_MS}))  # fmt: skip


def row(what: str, times: list[float], **figures: object) -> dict[str, object]:
    return {"what": what, "p50_ms": statistics.median(times), "p95_ms": pct(times, 95), **figures}


def run(client: httpx.Client) -> list[dict[str, object]]:
    timed(client, "/search", q="warm-up")
    over_http, hits = search_times(client)
    indexed, naive = search_in_process(False), search_in_process(True)
    heat = [timed(client, "/analytics/heatmap", days=90) for _ in range(ROUNDS)]
    heat_body = heat[-1][1]
    paged = [paged_cases(client) for _ in range(2)]
    return [
        row("search over HTTP", over_http, hits_per_query=hits / len(QUERIES)),
        row("search SQL (trigram + prefix indexes)", indexed),
        row("search SQL naive (no index scans)", naive),
        row("heatmap: hexagon bins in SQL", [ms for ms, _ in heat], bytes=len(heat_body.content),
            cases=heat_body.json()["total"]),
        row("heatmap naive: page cases to the client", [ms for ms, _, _ in paged], bytes=paged[-1][2],
            cases=paged[-1][1]),
    ]  # fmt: skip


def print_table(rows: list[dict[str, object]]) -> None:
    print(f"{'what':<42} {'p50 ms':>9} {'p95 ms':>9} {'bytes':>10} {'cases':>7}")
    for row in rows:
        cells = [row.get(key, "") for key in ("p50_ms", "p95_ms", "bytes", "cases")]
        shown = [f"{c:.1f}" if isinstance(c, float) else str(c) for c in cells]
        print(f"{row['what']:<42} {shown[0]:>9} {shown[1]:>9} {shown[2]:>10} {shown[3]:>7}")


if __name__ == "__main__":
    main()

"""Benchmark: live case events fanned out over SSE to 200 clients, against polling.

Starts the embedded PostGIS cluster and the API (uvicorn, one process, loopback) itself, in a
throwaway database holding one district / street / community / grid and an operator account.
200 clients follow GET /events/stream; the operator then reports cases one after another (each
report is a case transition published with NOTIFY). For every case and every client: time from
sending the POST to the event reaching the client; events that never arrive are counted as lost.
Side by side, the same number of clients poll GET /cases every --poll-interval seconds (what a
dashboard without a push channel does; Esri dashboards refresh every 30 s or more) and the time
until each client's poll first shows each case is measured the same way.
Prints a table and, as the last line, a JSON object. Target: SSE p95 <= 250 ms on 2 cores, lost 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.district_rows import add_bench_district, create_plan
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster

DATABASE = "wangge_bench_fanout"
TARGET_P95_MS = 250.0
PASSWORD = "fanout benchmark"
CENTRE = (114.305, 30.545)
OPTIONAL_ROUTERS = ("gis_api.cases.router", "gis_api.events.router")


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> str:
    ring = (
        f"{min_lon} {min_lat},{max_lon} {min_lat},{max_lon} {max_lat},{min_lon} {max_lat},{min_lon} {min_lat}"
    )
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def prepare_database(cluster: EmbeddedCluster) -> str:
    """A migrated throwaway database with one grid of one community of one street, and an operator."""
    from gis_api.auth.service import create_user

    cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE)
    engine = create_engine(url)
    migrate.upgrade(engine)
    area = box(114.30, 30.54, 114.31, 30.55)
    with engine.begin() as connection:
        run = connection.execute
        add_bench_district(connection, area)
        run(text("INSERT INTO street VALUES ('420106001', '积玉桥街道', '420106', :g)"), {"g": area})
        plan = create_plan(connection)
        community = run(
            text(
                "INSERT INTO community (plan_id, code, name, street_code, geom) "
                "VALUES (:p, '420106001001', '社区', '420106001', :g) RETURNING id"
            ),
            {"p": plan, "g": area},
        ).scalar_one()
        run(
            text(
                "INSERT INTO grid (plan_id, code, name, community_id, geom) "
                "VALUES (:p, '42010600100101', '第01网格', :c, :g)"
            ),
            {"p": plan, "c": community, "g": area},
        )
    with Session(engine) as session:
        create_user(session, "operator", PASSWORD, "district_operator", "420106")
    engine.dispose()
    return url


async def follow(client: httpx.AsyncClient, arrivals: dict[int, float], connected: asyncio.Event) -> None:
    """One SSE client: record when each case's 'report' event arrives."""
    async with client.stream("GET", "/events/stream", params={"max_seconds": 600}) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                connected.set()
            elif line.startswith("data:"):
                event = json.loads(line[5:])
                if event.get("data", {}).get("action") == "report":
                    arrivals.setdefault(int(event["case_id"]), time.perf_counter())


async def poll(
    client: httpx.AsyncClient, arrivals: dict[int, float], interval: float, stop: asyncio.Event
) -> None:
    """One polling client: record when each case first shows up in GET /cases."""
    await asyncio.sleep(np.random.default_rng(id(arrivals)).uniform(0, interval))  # clients are not in step
    while not stop.is_set():
        response = await client.get("/cases", params={"limit": 500})
        seen = time.perf_counter()
        for item in response.json()["items"]:
            arrivals.setdefault(int(item["id"]), seen)
        await asyncio.sleep(interval)


async def report_cases(client: httpx.AsyncClient, count: int, gap_s: float) -> dict[int, float]:
    """Report `count` cases; case id -> time its POST was sent."""
    sent: dict[int, float] = {}
    for number in range(count):
        started = time.perf_counter()
        body = {
            "category_code": "E0201",
            "lon": CENTRE[0],
            "lat": CENTRE[1],
            "description": f"bench {number}",
        }
        response = await client.post("/cases", json=body)
        response.raise_for_status()
        sent[int(response.json()["id"])] = started
        await asyncio.sleep(gap_s)
    return sent


def latencies(sent: dict[int, float], per_client: list[dict[int, float]]) -> tuple[list[float], int]:
    delays, lost = [], 0
    for arrivals in per_client:
        for case_id, at in sent.items():
            if case_id in arrivals:
                delays.append(max(arrivals[case_id] - at, 0.0) * 1000)
            else:
                lost += 1
    return delays, lost


async def run_sse(base_url: str, headers: dict[str, str], clients: int, cases: int, gap_s: float) -> tuple:
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=None, limits=limits) as streams:
        per_client: list[dict[int, float]] = [{} for _ in range(clients)]
        ready = [asyncio.Event() for _ in range(clients)]
        tasks = [asyncio.create_task(follow(streams, per_client[i], ready[i])) for i in range(clients)]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), timeout=60)
        log(f"{clients} SSE clients connected; reporting {cases} cases")
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as operator:
            sent = await report_cases(operator, cases, gap_s)
        await asyncio.sleep(3)  # stragglers
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies(sent, per_client)


async def run_polling(
    base_url: str, headers: dict[str, str], clients: int, cases: int, gap_s: float, interval: float
) -> tuple:
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60, limits=limits) as pollers:
        per_client: list[dict[int, float]] = [{} for _ in range(clients)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(poll(pollers, per_client[i], interval, stop)) for i in range(clients)]
        await asyncio.sleep(interval)  # every poller has seen the old cases once
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as operator:
            sent = await report_cases(operator, cases, gap_s)
        await asyncio.sleep(interval * 1.5)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies(sent, per_client)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between two reports")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="polling peer's refresh period (s)")
    args = parser.parse_args()
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    url = prepare_database(cluster)
    api, base_url = start_api(url, keep_alive_s=60)
    log(f"API up on {base_url} (database {DATABASE})")
    try:
        token = httpx.post(
            f"{base_url}/auth/token", data={"username": "operator", "password": PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        sse, sse_lost = asyncio.run(run_sse(base_url, headers, args.clients, args.cases, args.gap))
        log(f"polling peer: {args.clients} clients every {args.poll_interval:g} s")
        polled, poll_lost = asyncio.run(
            run_polling(base_url, headers, args.clients, args.cases, args.gap, args.poll_interval)
        )
    finally:
        api.terminate()
        api.wait(timeout=10)
        cluster.drop_database(DATABASE)
    print(
        f"{'method':<28} {'clients':>8} {'events':>8} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'lost':>6}"
    )
    for name, values, lost in (
        ("SSE push (ours)", sse, sse_lost),
        (f"polling every {args.poll_interval:g} s", polled, poll_lost),
    ):
        print(
            f"{name:<28} {args.clients:>8} {args.cases:>8} {pct(values, 50):>9.1f} {pct(values, 95):>9.1f} "
            f"{max(values, default=float('nan')):>9.1f} {lost:>6}"
        )
    figures = {
        "clients": args.clients,
        "events": args.cases,
        "p50_ms": round(pct(sse, 50), 1),
        "p95_ms": round(pct(sse, 95), 1),
        "max_ms": round(max(sse, default=float("nan")), 1),
        "lost": sse_lost,
        "polling_interval_s": args.poll_interval,
        "polling_p50_ms": round(pct(polled, 50), 1),
        "polling_p95_ms": round(pct(polled, 95), 1),
        "polling_lost": poll_lost,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": pct(sse, 95) <= TARGET_P95_MS and sse_lost == 0,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

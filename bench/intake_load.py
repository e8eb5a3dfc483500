"""Benchmark: case intake under load — create → accept → register → dispatch → live event received.

Starts everything itself: a scratch database in the embedded cluster with a synthetic district
(4 streets x 3 communities x 4 grids, a street lattice, team members in every grid), then the API
under uvicorn with several worker processes on loopback, then a load generator of concurrent
operators (asyncio + httpx) for --seconds. One SSE client follows /events/stream; the latency of
an incident is from its POST /cases to the moment the SSE client sees its dispatch event.
Team members go back to `available` every --shift-s seconds (a shift change) so dispatch never
runs out of free candidates. Last line: a JSON object {req_per_s, p50_ms, p99_ms, errors, ...}.
Targets (issue): >= 200 req/s with p99 <= 150 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.district_rows import add_bench_district, claim_rows, create_plan
from gis_api.auth.service import create_user
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster

DATABASE = "wangge_bench_intake"
WEST, SOUTH = 114.27, 30.50
GRID_W, GRID_H = 0.01, 0.01  # degrees per grid cell; 8 x 6 cells
STREETS, COMMUNITIES = 4, 3
LATTICE_STEP = 0.0025
MEMBERS_PER_GRID = 6
OPERATOR, PASSWORD = "bench_op", "bench-password-1"
TARGET_REQ_S, TARGET_P99_MS = 200.0, 150.0


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def seed_district(connection: Connection, rng: np.random.Generator) -> int:
    """Streets (columns of 2 grid cells), communities (rows of 2 cells), 2 x 2 grids each; members."""
    run = connection.execute
    east, north = WEST + 2 * STREETS * GRID_W, SOUTH + 2 * COMMUNITIES * GRID_H
    add_bench_district(connection, box(WEST, SOUTH, east, north))
    plan = create_plan(connection)
    members = 0
    for s in range(STREETS):
        street = f"420106{s + 1:03d}"
        x0 = WEST + 2 * s * GRID_W
        run(
            text("INSERT INTO street VALUES (:c, :n, '420106', :g)"),
            {"c": street, "n": f"街道{s + 1}", "g": box(x0, SOUTH, x0 + 2 * GRID_W, north)},
        )
        for c in range(COMMUNITIES):
            y0 = SOUTH + 2 * c * GRID_H
            community = f"{street}{c + 1:03d}"
            community_id = run(
                text(
                    "INSERT INTO community (plan_id, code, name, street_code, geom) "
                    "VALUES (:p, :c, :n, :s, :g) RETURNING id"
                ),
                {"p": plan, "c": community, "n": f"社区{c + 1}", "s": street,
                 "g": box(x0, y0, x0 + 2 * GRID_W, y0 + 2 * GRID_H)},
            ).scalar_one()  # fmt: skip
            for g in range(4):
                gx, gy = x0 + (g % 2) * GRID_W, y0 + (g // 2) * GRID_H
                grid_id = run(
                    text(
                        "INSERT INTO grid (plan_id, code, name, community_id, geom) "
                        "VALUES (:p, :c, :n, :ci, :g) RETURNING id"
                    ),
                    {"p": plan, "c": f"{community}{g + 1:02d}", "n": f"网格{g + 1}", "ci": community_id,
                     "g": box(gx, gy, gx + GRID_W, gy + GRID_H)},
                ).scalar_one()  # fmt: skip
                members += seed_members(connection, grid_id, gx, gy, rng)
    return members


def seed_members(connection: Connection, grid_id: int, gx: float, gy: float, rng: np.random.Generator) -> int:
    for n in range(MEMBERS_PER_GRID):
        role = "grid_worker" if n < 2 else "volunteer"
        lon, lat = gx + rng.uniform(0.001, GRID_W - 0.001), gy + rng.uniform(0.001, GRID_H - 0.001)
        connection.execute(
            text(
                "INSERT INTO team_member (name, role, home_grid_id, status, last_position, last_seen_at) "
                "VALUES (:n, CAST(:r AS member_role), :g, 'available', "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), now())"
            ),
            {"n": f"队员{grid_id}-{n}", "r": role, "g": grid_id, "x": lon, "y": lat},
        )
    return MEMBERS_PER_GRID


def seed_roads(connection: Connection) -> int:
    """A street lattice over the district, 30 km/h everywhere (travel time = length / speed)."""
    columns = round(2 * STREETS * GRID_W / LATTICE_STEP) + 1
    rows = round(2 * COMMUNITIES * GRID_H / LATTICE_STEP) + 1
    node = lambda i, j: i * rows + j + 1  # noqa: E731
    nodes = [
        {"i": node(i, j), "x": WEST + i * LATTICE_STEP, "y": SOUTH + j * LATTICE_STEP}
        for i in range(columns)
        for j in range(rows)
    ]
    connection.execute(
        text("INSERT INTO road_node (id, geom) VALUES (:i, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), nodes
    )
    by_id = {n["i"]: (n["x"], n["y"]) for n in nodes}
    pairs = [(node(i, j), node(i + 1, j)) for i in range(columns - 1) for j in range(rows)]
    pairs += [(node(i, j), node(i, j + 1)) for i in range(columns) for j in range(rows - 1)]
    edges = [
        {
            "i": k + 1,
            "s": a,
            "t": b,
            "x1": by_id[a][0],
            "y1": by_id[a][1],
            "x2": by_id[b][0],
            "y2": by_id[b][1],
        }
        for k, (a, b) in enumerate(pairs)
    ]
    connection.execute(
        text(
            "INSERT INTO road_edge (id, source, target, road_class, oneway, length_m, speed_kmh, "
            "travel_time_s, cost, reverse_cost, geom) "
            "SELECT :i, :s, :t, 'residential', false, m, 30, m / 30 * 3.6, m / 30 * 3.6, m / 30 * 3.6, g "
            "FROM (SELECT ST_SetSRID(ST_MakeLine(ST_MakePoint(:x1, :y1), ST_MakePoint(:x2, :y2)), 4326)"
            " AS g) l, "
            "LATERAL (SELECT ST_Length(l.g::geography) AS m) len"
        ),
        edges,
    )
    return len(edges)


def prepare_database(cluster: EmbeddedCluster) -> str:
    cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE)
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        members = seed_district(connection, np.random.default_rng(420106))
        edges = seed_roads(connection)
        claim_rows(connection)
    with Session(engine) as session:
        create_user(session, OPERATOR, PASSWORD, "district_operator", "420106")
    engine.dispose()
    log(f"scratch database {DATABASE}: 48 grids, {members} team members, {edges} road segments")
    return url


@dataclass
class Results:
    requests: int = 0
    incidents: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    posted_at: dict[int, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    request_ms: list[float] = field(default_factory=list)


async def operator(
    client: httpx.AsyncClient, results: Results, stop_at: float, rng: np.random.Generator
) -> None:
    """One operator: report, accept, register and dispatch incidents one after another."""
    while time.monotonic() < stop_at:
        lon = WEST + rng.uniform(0.0005, 2 * STREETS * GRID_W - 0.0005)
        lat = SOUTH + rng.uniform(0.0005, 2 * COMMUNITIES * GRID_H - 0.0005)
        started = time.monotonic()
        body = {"category_code": "E0102", "lon": lon, "lat": lat}
        key = {"Idempotency-Key": f"bench-{os.getpid()}-{rng.integers(1 << 62)}"}
        case = await call(client, results, "POST", "/cases", body, key)
        if case is None:
            continue
        case_id = int(str(case["id"]))
        results.posted_at[case_id] = started
        for path in ("actions/accept", "actions/register", "dispatch"):
            if await call(client, results, "POST", f"/cases/{case_id}/{path}", {}) is None:
                break
        else:
            results.incidents += 1


async def call(
    client: httpx.AsyncClient,
    results: Results,
    method: str,
    path: str,
    body: object,
    headers: dict[str, str] | None = None,
) -> dict[str, object] | None:
    started = time.monotonic()
    try:
        response = await client.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as error:
        results.errors[type(error).__name__] += 1
        return None
    results.requests += 1
    results.request_ms.append((time.monotonic() - started) * 1000)
    if response.status_code >= 400:
        results.errors[f"{response.status_code} {path.split('/')[-1]}"] += 1
        return None
    answer: dict[str, object] = response.json()
    return answer


async def follow_events(base: str, token: str, results: Results, stop_at: float) -> None:
    """The SSE client: the latency of an incident ends when its dispatch event arrives here."""
    headers = {"Authorization": f"Bearer {token}"}
    url = "/events/stream?max_seconds=3600"
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: ") and '"action": "dispatch"' in line:
                event = json.loads(line[6:])
                started = results.posted_at.get(int(event["case_id"]))
                if started is not None:
                    results.latencies_ms.append((time.monotonic() - started) * 1000)
            if time.monotonic() > stop_at + 5:
                return


def shift_change(url: str, stop_at: float, every_s: float) -> None:
    engine = create_engine(url)
    while time.monotonic() < stop_at:
        time.sleep(every_s)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE team_member SET status = 'available' WHERE status <> 'available'")
            )
    engine.dispose()


async def load(base: str, url: str, seconds: float, concurrency: int, shift_s: float) -> Results:
    results = Results()
    token = httpx.post(f"{base}/auth/token", data={"username": OPERATOR, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    stop_at = time.monotonic() + seconds
    follower = asyncio.create_task(follow_events(base, token["access_token"], results, stop_at))
    await asyncio.sleep(1.0)  # let the stream attach before the first incident
    stop_at = time.monotonic() + seconds
    freeing = asyncio.get_running_loop().run_in_executor(None, shift_change, url, stop_at, shift_s)
    progress = asyncio.create_task(report_progress(results, stop_at))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30, limits=limits) as client:
        rngs = [np.random.default_rng(seed) for seed in range(concurrency)]
        await asyncio.gather(*(operator(client, results, stop_at, rng) for rng in rngs))
    await asyncio.sleep(2.0)  # the last dispatch events are on their way
    follower.cancel()
    progress.cancel()
    await freeing
    return results


async def report_progress(results: Results, stop_at: float) -> None:
    while time.monotonic() < stop_at:
        await asyncio.sleep(10)
        left = max(stop_at - time.monotonic(), 0)
        log(f"{results.requests} requests, {results.incidents} incidents dispatched, "
            f"{sum(results.errors.values())} errors, {left:.0f} s left")  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--shift-s", type=float, default=2.0)
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    url = prepare_database(cluster)
    process, base = start_api(url, args.workers)
    log(f"API up on {base} with {args.workers} worker processes (pid {process.pid})")
    try:
        log(f"load: {args.concurrency} concurrent operators for {args.seconds:.0f} s")
        results = asyncio.run(load(base, url, args.seconds, args.concurrency, args.shift_s))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if not args.keep_database:
            cluster.drop_database(DATABASE)
    print_table(results, args.seconds)


def print_table(results: Results, seconds: float) -> None:
    figures = {
        "req_per_s": round(results.requests / seconds, 1),
        "incidents_per_s": round(results.incidents / seconds, 1),
        "p50_ms": round(percentile(results.latencies_ms, 50), 1),
        "p99_ms": round(percentile(results.latencies_ms, 99), 1),
        "request_p50_ms": round(percentile(results.request_ms, 50), 1),
        "request_p99_ms": round(percentile(results.request_ms, 99), 1),
        "events_seen": len(results.latencies_ms),
        "incidents": results.incidents,
        "errors": sum(results.errors.values()),
    }
    print()
    print(f"{'measure':<44}{'value':>12}")
    rows = [
        ("HTTP requests per second", figures["req_per_s"], f"target >= {TARGET_REQ_S:.0f}"),
        ("incidents dispatched per second (4 requests each)", figures["incidents_per_s"], ""),
        ("create -> assign -> event p50 (ms)", figures["p50_ms"], ""),
        ("create -> assign -> event p99 (ms)", figures["p99_ms"], f"target <= {TARGET_P99_MS:.0f}"),
        ("single request p50 / p99 (ms)", f"{figures['request_p50_ms']} / {figures['request_p99_ms']}", ""),
        ("dispatch events received / incidents", f"{figures['events_seen']} / {figures['incidents']}", ""),
        ("errors", figures["errors"], ", ".join(f"{k}: {v}" for k, v in results.errors.most_common(4))),
    ]
    for name, value, note in rows:
        print(f"{name:<52}{value!s:>16}  {note}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

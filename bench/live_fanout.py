"""Benchmark: live case events fanned out over SSE to 200 clients of mixed scopes, against polling.

Starts everything itself from a fresh checkout: a copy of the Wuchang demo database
(bench/common.py), accounts for each scope, the API (uvicorn, 2 workers, loopback).

200 clients follow GET /events/stream: 40 with the district's scope, 80 with one of 4 streets,
80 with one of 8 communities (2 in each of those streets), each under its own scope's account.
An operator then reports cases one after another at points inside grids of those communities,
of the rest of those streets and of other streets, so every client has events to receive and
events it must not see. For every case and every client that may see it: time from sending the
POST to the event reaching the client; an event that never arrives is lost, an event reaching a
client outside its scope is a leak (both must be 0).

Polling peers, the same clients with the same scopes calling GET /cases (newest first, the API's
default page) instead: every 5 s (a typical dashboard refresh), and at the interval that would
match our p95 on paper. A client polling every T s sees a case on average T/2 after it appears
and at p95 0.95 T after, plus the request itself, so T = (SSE p95 - poll request p50) / 0.95;
the benchmark runs that interval too and reports what 200 clients polling that often achieve.
Prints a table and, as the last line, a JSON object. Target: SSE p95 <= 250 ms on 2 cores, lost 0.

    .venv/bin/python bench/live_fanout.py [--clients 200] [--cases 60] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.common import Machine, add_account, demo_copy, district_code, drop, log, pct

DATABASE = "wangge_bench_fanout"
PASSWORD = "fanout-benchmark"
TARGET_P95_MS = 250.0
SHARES = {"district": 0.2, "street": 0.4, "community": 0.4}
ROLES = {"district": "district_operator", "street": "street_operator", "community": "community_operator"}
STREETS, COMMUNITIES_PER_STREET = 4, 2
TYPICAL_POLL_S = 5.0
SCOPES_SQL = """
SELECT c.street_code, c.code FROM community c JOIN active_plan a ON a.plan_id = c.plan_id
WHERE a.district_code = :d AND c.households > 0 ORDER BY c.street_code, c.code
"""
GRID_POINTS_SQL = """
SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
FROM grid g JOIN active_plan a ON a.plan_id = g.plan_id WHERE a.district_code = :d ORDER BY g.code
"""


@dataclass(frozen=True)
class Client:
    """One follower: its scope level, scope code and the account it logs in with."""

    level: str
    scope: str

    @property
    def username(self) -> str:
        return f"fan_{self.level}_{self.scope}"

    def sees(self, grid_code: str) -> bool:
        return grid_code.startswith(self.scope)


@dataclass
class Arrivals:
    """When each client first saw each case (case id -> monotonic seconds), and leaks."""

    seen: list[dict[int, float]]
    leaks: int = 0


@dataclass
class Plan:
    """Clients and the cases to report: (grid code, lon, lat)."""

    clients: list[Client]
    cases: list[tuple[str, float, float]]


def plan_clients_and_cases(engine: Engine, count: int, cases: int, rng: np.random.Generator) -> Plan:
    """Scopes (the district, 4 streets, 2 communities in each) and cases spread over them and beyond."""
    district = district_code(engine)
    with engine.connect() as connection:
        pairs = connection.execute(text(SCOPES_SQL), {"d": district}).all()
        grids = connection.execute(text(GRID_POINTS_SQL), {"d": district}).all()
    by_street: dict[str, list[str]] = {}
    for street, community in pairs:
        by_street.setdefault(street, []).append(community)
    streets = [s for s in sorted(by_street, key=lambda s: -len(by_street[s]))][:STREETS]
    communities = [c for s in streets for c in by_street[s][:COMMUNITIES_PER_STREET]]
    scopes = {"district": [district], "street": streets, "community": communities}
    clients = []
    for level, share in SHARES.items():
        n = round(count * share)
        clients += [Client(level, scopes[level][i % len(scopes[level])]) for i in range(n)]
    # a third of the cases in the tracked communities, a third elsewhere in their streets, a third outside
    tracked = [g for g in grids if g[0].startswith(tuple(communities))]
    same_street = [
        g for g in grids if g[0].startswith(tuple(streets)) and not g[0].startswith(tuple(communities))
    ]
    groups = [tracked, same_street, [g for g in grids if not g[0].startswith(tuple(streets))]]
    picks = [groups[k % 3][int(rng.integers(len(groups[k % 3])))] for k in range(cases)]
    return Plan(clients, [(str(code), float(lon), float(lat)) for code, lon, lat in picks])


def create_accounts(engine: Engine, clients: list[Client]) -> None:
    for client in {(c.username, c.level, c.scope) for c in clients}:
        add_account(engine, client[0], PASSWORD, ROLES[client[1]], client[2])


async def tokens(base: str, clients: list[Client]) -> dict[str, str]:
    """A bearer token per account."""
    found: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for username in sorted({c.username for c in clients}):
            response = await client.post("/auth/token", data={"username": username, "password": PASSWORD})
            response.raise_for_status()
            found[username] = response.json()["access_token"]
    return found


async def follow(
    http: httpx.AsyncClient, token: str, client: Client, seen: dict[int, float], arrivals: Arrivals,
    connected: asyncio.Event,
) -> None:  # fmt: skip
    """One SSE client: record when each case's report event arrives; count events outside its scope."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.stream("GET", "/events/stream", params={"max_seconds": 900}, headers=headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                connected.set()
            elif line.startswith("data:"):
                event = json.loads(line[5:])
                if (event.get("data") or {}).get("action") == "report":
                    seen.setdefault(int(event["case_id"]), time.monotonic())
                    if not client.sees(str(event.get("grid_code") or "")):
                        arrivals.leaks += 1


Sent = dict[int, tuple[float, str]]


async def report_cases(base: str, token: str, cases: list[tuple[str, float, float]], gap_s: float) -> Sent:
    """Report the cases one after another; case id -> (time its POST was sent, grid code)."""
    sent: Sent = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as operator:
        for number, (grid, lon, lat) in enumerate(cases):
            started = time.monotonic()
            body = {"category_code": "E0201", "lon": lon, "lat": lat, "description": f"fan-out {number}"}
            response = await operator.post("/cases", json=body)
            response.raise_for_status()
            sent[int(response.json()["id"])] = (started, response.json().get("grid_code", grid))
            await asyncio.sleep(gap_s)
    return sent


def delays(
    plan: Plan, sent: dict[int, tuple[float, str]], arrivals: Arrivals
) -> tuple[dict[str, list[float]], int]:
    """Delays (ms) per scope level for every (case, client allowed to see it); and events lost."""
    found: dict[str, list[float]] = {level: [] for level in SHARES}
    lost = 0
    for client, seen in zip(plan.clients, arrivals.seen, strict=True):
        for case_id, (at, grid) in sent.items():
            if not client.sees(grid):
                continue
            if case_id in seen:
                found[client.level].append(max(seen[case_id] - at, 0.0) * 1000)
            else:
                lost += 1
    return found, lost


async def run_sse(base: str, plan: Plan, tokens_of: dict[str, str], reporter: str, gap_s: float) -> tuple:
    """All clients follow the stream; the operator reports; delays per level, lost, leaks."""
    arrivals = Arrivals([{} for _ in plan.clients])
    size = len(plan.clients) + 10
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as http:
        ready = [asyncio.Event() for _ in plan.clients]
        tasks = [
            asyncio.create_task(follow(http, tokens_of[c.username], c, arrivals.seen[i], arrivals, ready[i]))
            for i, c in enumerate(plan.clients)
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), timeout=120)
        log(f"{len(plan.clients)} SSE clients connected; reporting {len(plan.cases)} cases")
        sent = await report_cases(base, tokens_of[reporter], plan.cases, gap_s)
        await asyncio.sleep(3)  # stragglers
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    found, lost = delays(plan, sent, arrivals)
    return found, lost, arrivals.leaks


async def poll(
    http: httpx.AsyncClient, token: str, seen: dict[int, float], interval: float, stop: asyncio.Event,
    requests: list[tuple[float, float]], rng: np.random.Generator,
) -> None:  # fmt: skip
    """One polling client: GET /cases (newest first, default page) every `interval` s."""
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(float(rng.uniform(0, interval)))  # clients are not in step
    while not stop.is_set():
        started = time.monotonic()
        response = await http.get("/cases", headers=headers)
        done = time.monotonic()
        requests.append((started, (done - started) * 1000))
        if response.status_code == 200:
            for item in response.json()["items"]:
                seen.setdefault(int(item["id"]), done)
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def run_polling(base: str, plan: Plan, tokens_of: dict[str, str], reporter: str, gap_s: float,
                      interval: float) -> tuple:  # fmt: skip
    """The same clients polling every `interval` s while the operator reports the same cases."""
    arrivals = Arrivals([{} for _ in plan.clients])
    requests: list[tuple[float, float]] = []
    limits = httpx.Limits(max_connections=len(plan.clients) + 10)
    rng = np.random.default_rng(7)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(poll(http, tokens_of[c.username], seen, interval, stop, requests, rng))
            for c, seen in zip(plan.clients, arrivals.seen, strict=True)
        ]
        await asyncio.sleep(interval + 0.5)  # every poller has seen the older cases once
        started = time.monotonic()
        sent = await report_cases(base, tokens_of[reporter], plan.cases, gap_s)
        ended = time.monotonic()
        await asyncio.sleep(interval * 1.5 + 1)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    found, lost = delays(plan, sent, arrivals)
    during = [ms for at, ms in requests if started <= at <= ended]
    return found, lost, pct([ms for _, ms in requests], 50), len(during) / max(ended - started, 1e-9)


def summary(found: dict[str, list[float]]) -> dict[str, float]:
    every = [ms for values in found.values() for ms in values]
    return {"p50_ms": round(pct(every, 50), 1), "p95_ms": round(pct(every, 95), 1),
            "max_ms": round(max(every, default=float("nan")), 1), "deliveries": len(every)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between two reports")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="60 clients, 15 cases (development only)")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.cases = 60, 15
    machine = Machine()
    url = demo_copy(DATABASE)
    engine = create_engine(url)
    plan = plan_clients_and_cases(engine, args.clients, args.cases, np.random.default_rng(420106))
    create_accounts(engine, plan.clients)
    reporter = next(c.username for c in plan.clients if c.level == "district")
    engine.dispose()
    api, base = start_api(url, workers=args.workers, keep_alive_s=60)
    log(f"API up on {base} ({args.workers} workers)")
    try:
        tokens_of = asyncio.run(tokens(base, plan.clients))
        sse, lost, leaks = asyncio.run(run_sse(base, plan, tokens_of, reporter, args.gap))
        sse_summary = summary(sse)
        runs = [("polling every 5 s (typical)", TYPICAL_POLL_S)]
        log(f"SSE p95 {sse_summary['p95_ms']} ms; polling peer every {TYPICAL_POLL_S:g} s")
        typical = asyncio.run(run_polling(base, plan, tokens_of, reporter, args.gap, TYPICAL_POLL_S))
        matching = max((sse_summary["p95_ms"] - typical[2]) / 0.95 / 1000, 0.05)
        runs.append((f"polling every {matching:.2f} s (matches SSE p95 on paper)", matching))
        log(f"polling peer every {matching:.2f} s")
        fast = asyncio.run(run_polling(base, plan, tokens_of, reporter, args.gap, matching))
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=30)
        drop(DATABASE)
    polled = [typical, fast]
    print(f"\n{machine.header()}")
    mix = ", ".join(f"{sum(c.level == level for c in plan.clients)} {level}" for level in SHARES)
    print(f"{len(plan.clients)} clients ({mix} scope); {len(plan.cases)} cases, one every {args.gap:g} s")
    head = f"{'method':<52}{'deliveries':>11}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'lost':>6}{'req/s':>8}"
    print(head + "\n" + "-" * len(head))
    rows = [("SSE push (ours)", sse_summary, lost, "")]
    rows += [(f"  {level} scope", summary({level: sse[level]}), "", "") for level in SHARES]
    for (name, _), (found, missing, _, rate) in zip(runs, polled, strict=True):
        rows.append((name, summary(found), missing, f"{rate:.0f}"))
    for name, s, missing, rate in rows:
        print(
            f"{name:<52}{s['deliveries']:>11}{s['p50_ms']:>9}{s['p95_ms']:>9}{s['max_ms']:>9}{missing!s:>6}",
            end="",
        )
        print(f"{rate:>8}")
    print(f"events outside a client's scope (must be 0): {leaks}")
    figures = {
        "clients": len(plan.clients),
        "clients_by_scope": {level: sum(c.level == level for c in plan.clients) for level in SHARES},
        "events": len(plan.cases),
        **sse_summary,
        "by_scope": {level: summary({level: sse[level]}) for level in SHARES},
        "lost": lost,
        "leaks": leaks,
        "polling_interval_s": TYPICAL_POLL_S,
        "polling_p50_ms": summary(typical[0])["p50_ms"],
        "polling_p95_ms": summary(typical[0])["p95_ms"],
        "polling_lost": typical[1],
        "polling_req_per_s": round(typical[3], 1),
        "polling_interval_matching_p95_s": round(matching, 3),
        "matching_polling_p95_ms": summary(fast[0])["p95_ms"],
        "matching_polling_lost": fast[1],
        "matching_polling_req_per_s": round(fast[3], 1),
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": sse_summary["p95_ms"] <= TARGET_P95_MS and lost == 0 and leaks == 0,
        **machine.figures(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Benchmark: SIGKILL the API 10 times under load; nothing acknowledged is lost, nothing is doubled.

Starts everything itself from a fresh checkout: a copy of the Wuchang demo database
(bench/common.py), the API under uvicorn with 2 worker processes on loopback. Then, 10 times:
32 concurrent clients post case reports (each with its own Idempotency-Key, positions near
households) and, at a random moment 2-8 s into the load, the whole uvicorn process group gets
SIGKILL (no shutdown; requests in flight are cut off). The API is started again and every request
that got no answer is retried with the same key:

- 201: the report had not been committed before the kill; it is stored now;
- 200 (Idempotent-Replayed): it HAD been committed, but the client never heard so (committed
  but not acknowledged), the case the retry returns is the one stored before the kill.

With 32 clients in flight at a random moment, some requests are usually between their commit and
their response, so the second case happens, and the benchmark reports how often. At the end the
database is checked against what the clients were told:

- lost: an acknowledged case (201/200 with an id) that is not stored under its key;
- duplicated: a key stored twice, a case stored under a key nobody sent, or a re-post of an
  acknowledged key (every one is re-posted once more at the end) answering with a different case.

Prints a table per kill and, as the last line, a JSON object; lost and duplicated must be 0.

    .venv/bin/python bench/kill_recovery.py [--kills 10] [--clients 32] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.common import Machine, add_account, demo_copy, district_code, drop, log
from bench.intake_load import Workload

DATABASE = "wangge_bench_kill"
USERNAME, PASSWORD = "bench_kill", "bench-kill-password"
KEY_PREFIX = "kill-"
BODIES_SQL = "SELECT id, category_code, description, ST_X(geom), ST_Y(geom) FROM incident"
Outcome = tuple[str, int | str, int | None]
"""(key, HTTP status or transport error name, case id when acknowledged)."""


@dataclass
class Ledger:
    """What the clients know: acknowledged keys (-> case id) and requests that got no answer."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    unanswered: dict[str, dict[str, Any]] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    """Why each unanswered request got no answer (ConnectError: it never reached the server)."""
    statuses: Counter[str] = field(default_factory=Counter)

    def record(self, key: str, body: dict[str, Any], outcome: int | str, case_id: int | None) -> None:
        self.statuses[str(outcome)] += 1
        if case_id is not None:
            self.acknowledged[key] = case_id
            self.unanswered.pop(key, None)
        else:
            self.unanswered[key] = body
            self.why[key] = str(outcome)


@dataclass
class Kill:
    """One kill: when, how many requests it cut off, and what their retries found."""

    at_s: float
    cut_off: int = 0
    in_flight: int = 0
    """Of those cut off: requests the server had received (not refused connections)."""
    committed_unacknowledged: int = 0
    created_on_retry: int = 0
    other: Counter[str] = field(default_factory=Counter)
    restart_s: float = 0.0


async def post_case(
    client: httpx.AsyncClient, key: str, body: dict[str, Any]
) -> tuple[int | str, int | None]:
    """(status or transport error name, case id when acknowledged)."""
    try:
        response = await client.post("/cases", json=body, headers={"Idempotency-Key": key}, timeout=30)
    except httpx.TransportError as error:
        return type(error).__name__, None
    if response.status_code in (200, 201):
        return response.status_code, int(response.json()["id"])
    return response.status_code, None


class Clients:
    """32 concurrent reporters; each stops at its first request without an answer (server gone)."""

    def __init__(self, workload: Workload, ledger: Ledger) -> None:
        self.workload = workload
        self.ledger = ledger
        self.sent = 0

    def body(self) -> dict[str, Any]:
        i = self.sent % len(self.workload.categories)
        lon, lat = self.workload.lonlat[i]
        self.sent += 1
        return {"category_code": self.workload.categories[i], "lon": float(lon), "lat": float(lat),
                "description": f"kill test {self.sent}"}  # fmt: skip

    async def reporter(self, client: httpx.AsyncClient, name: str, stop_at: float) -> None:
        n = 0
        while time.monotonic() < stop_at:
            key, body = f"{KEY_PREFIX}{name}-{n}", self.body()
            n += 1
            outcome, case_id = await post_case(client, key, body)
            self.ledger.record(key, body, outcome, case_id)
            if case_id is None and not isinstance(outcome, int):
                return

    async def load_until_killed(self, base: str, token: str, process: subprocess.Popen[bytes], kill: Kill,
                                clients: int, cycle: int) -> None:  # fmt: skip
        """Run the clients; SIGKILL the process group kill.at_s seconds in; wait for every client."""
        limits = httpx.Limits(max_connections=clients + 4)
        headers = {"Authorization": f"Bearer {token}"}
        before = set(self.ledger.unanswered)
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
            loop = asyncio.get_running_loop()
            loop.call_later(kill.at_s, os.killpg, process.pid, signal.SIGKILL)
            stop_at = time.monotonic() + kill.at_s + 60
            await asyncio.gather(*(self.reporter(client, f"k{cycle}c{i}", stop_at) for i in range(clients)))
        process.wait(timeout=30)
        cut = set(self.ledger.unanswered) - before
        kill.cut_off = len(cut)
        kill.in_flight = sum(1 for key in cut if self.ledger.why.get(key) != "ConnectError")


async def retry(base: str, token: str, requests: dict[str, dict[str, Any]], clients: int) -> list[Outcome]:
    """Send each request again with its original key."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)
    semaphore = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def one(key: str, body: dict[str, Any]) -> Outcome:
            async with semaphore:
                outcome, case_id = await post_case(client, key, body)
            return key, outcome, case_id

        return list(await asyncio.gather(*(one(key, body) for key, body in requests.items())))


def login(base: str) -> str:
    response = httpx.post(f"{base}/auth/token", data={"username": USERNAME, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def cycle(url: str, base: str, process: subprocess.Popen[bytes], clients: Clients, kill: Kill,
          args: argparse.Namespace, number: int) -> tuple[subprocess.Popen[bytes], str]:  # fmt: skip
    """Load, kill, restart, retry the unanswered: returns the new API process and its URL."""
    token = login(base)
    asyncio.run(clients.load_until_killed(base, token, process, kill, args.clients, number))
    down_at = time.monotonic()
    process, base = start_api(url, workers=2)
    kill.restart_s = time.monotonic() - down_at
    pending = dict(clients.ledger.unanswered)
    for key, outcome, case_id in asyncio.run(retry(base, login(base), pending, args.clients)):
        clients.ledger.record(key, pending[key], outcome, case_id)
        if outcome == 200:
            kill.committed_unacknowledged += 1
        elif outcome == 201:
            kill.created_on_retry += 1
        else:
            kill.other[str(outcome)] += 1
    log(
        f"kill {number + 1}/{args.kills} at {kill.at_s:.1f} s: {kill.cut_off} cut off, "
        f"{kill.committed_unacknowledged} committed but unacknowledged, back in {kill.restart_s:.1f} s"
    )
    return process, base


def stored_cases(url: str) -> dict[str, list[int]]:
    """Case ids per client key, as the database has them (keys are stored per account)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        user_id = connection.scalar(text("SELECT id FROM app_user WHERE username = :u"), {"u": USERNAME})
        rows = connection.execute(
            text("SELECT idempotency_key, id FROM incident WHERE idempotency_key IS NOT NULL")
        ).all()
    engine.dispose()
    prefix, found = f"u{user_id}:", dict[str, list[int]]()
    for key, case_id in rows:
        name = key.removeprefix(prefix) if key.startswith(prefix) else f"?{key}"
        found.setdefault(name, []).append(int(case_id))
    return found


def verify(url: str, base: str, ledger: Ledger, clients: int) -> dict[str, int]:
    """Compare what clients were told with what the database holds, then re-post every key once."""
    stored = stored_cases(url)
    acked = dict(ledger.acknowledged)
    lost = [key for key, case_id in acked.items() if case_id not in stored.get(key, [])]
    doubled = [key for key, ids in stored.items() if len(ids) > 1]
    strangers = [key for key in stored if key not in acked]
    bodies: dict[str, dict[str, Any]] = {}
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, category_code, description, ST_X(geom), ST_Y(geom) FROM incident")
        )
        by_id = {
            int(r[0]): {"category_code": r[1], "description": r[2], "lon": r[3], "lat": r[4]} for r in rows
        }
    engine.dispose()
    bodies = {key: by_id[case_id] for key, case_id in acked.items() if case_id in by_id}
    replayed = asyncio.run(retry(base, login(base), bodies, clients))
    mismatches = sum(1 for key, outcome, case_id in replayed if outcome != 200 or case_id != acked[key])
    grew = sum(len(ids) for ids in stored_cases(url).values()) - sum(len(ids) for ids in stored.values())
    log(f"re-posted all {len(bodies):,} acknowledged keys: {mismatches} answered differently")
    return {"lost": len(lost), "duplicated": len(doubled) + len(strangers) + mismatches + max(grew, 0),
            "replayed_keys": len(bodies), "replay_mismatches": mismatches}  # fmt: skip


def print_table(kills: list[Kill], report: dict[str, Any], machine: Machine) -> None:
    print(f"\n{machine.header()}")
    head = f"{'kill':>4}{'at s':>7}{'cut off':>9}{'in flight':>11}{'committed, unacked':>20}"
    head += f"{'created on retry':>18}{'restart s':>11}"
    print(head + "\n" + "-" * len(head))
    for n, kill in enumerate(kills, start=1):
        print(f"{n:>4}{kill.at_s:>7.1f}{kill.cut_off:>9}{kill.in_flight:>11}{kill.committed_unacknowledged:>20}"
              f"{kill.created_on_retry:>18}{kill.restart_s:>11.1f}")  # fmt: skip
    print(f"\nacknowledged cases {report['acknowledged']:,}; committed but not acknowledged in "
          f"{report['kills_with_committed_unacknowledged']} of {len(kills)} kills "
          f"({report['committed_but_unacknowledged']} requests); lost {report['lost']} (must be 0), "
          f"duplicated {report['duplicated']} (must be 0)")  # fmt: skip
    print(f"HTTP outcomes: {report['statuses']}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="3 kills (development only)")
    args = parser.parse_args()
    if args.quick:
        args.kills = 3
    machine = Machine()
    rng = np.random.default_rng(args.seed)
    url = demo_copy(DATABASE)
    engine = create_engine(url)
    add_account(engine, USERNAME, PASSWORD, "district_operator", district_code(engine))
    engine.dispose()
    clients = Clients(Workload.draw(url, 20_000, seed=args.seed), Ledger())
    kills = [Kill(at_s=float(rng.uniform(2.0, 8.0))) for _ in range(args.kills)]
    process, base = start_api(url, workers=2)
    try:
        for number, kill in enumerate(kills):
            process, base = cycle(url, base, process, clients, kill, args, number)
        checked = verify(url, base, clients.ledger, args.clients)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        drop(DATABASE)
    report = {
        "kills": len(kills),
        "clients": args.clients,
        "acknowledged": len(clients.ledger.acknowledged),
        "cut_off_by_kills": sum(k.cut_off for k in kills),
        "in_flight_at_kills": sum(k.in_flight for k in kills),
        "committed_but_unacknowledged": sum(k.committed_unacknowledged for k in kills),
        "kills_with_committed_unacknowledged": sum(1 for k in kills if k.committed_unacknowledged),
        "created_on_retry": sum(k.created_on_retry for k in kills),
        "unanswered_after_retry": len(clients.ledger.unanswered),
        **checked,
        "per_kill": [{"at_s": round(k.at_s, 2), "cut_off": k.cut_off, "in_flight": k.in_flight,
                      "committed_unacknowledged":
                      k.committed_unacknowledged, "restart_s": round(k.restart_s, 2)} for k in kills],
        "statuses": dict(clients.ledger.statuses),
        **machine.figures(),
    }  # fmt: skip
    print_table(kills, report, machine)
    print(json.dumps(report))
    return 0 if report["lost"] == 0 and report["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: case intake under an open-loop load on the Wuchang demo, and the highest rate it holds.

Starts everything itself from a fresh checkout: a copy of the demo database (real road graph,
every grid, all 1,963 team members: bench/common.py), the API under uvicorn with 2 worker
processes on loopback, one SSE client following /events/stream.

Open loop: incidents arrive as a Poisson process at the offered rate, whether or not the earlier
ones are done (a closed loop of N operators would slow its own arrivals when the server slows and
hide the queueing). Each incident is reported near a household (weighted category mix), then
accepted, registered and dispatched (4 requests); its latency runs from its SCHEDULED send time to
the moment the SSE client sees its dispatch event, so a late start counts against us too.
Team members are freed every 2 s (a shift change) so dispatch does not run out of candidates.

The rate steps up a ladder until a step fails, then bisects between the last pass and the first
failure. A step passes when p99 <= 150 ms, nothing failed (errors = 0), no dispatched incident's
event went missing (lost = 0) and at least 95 % of the offered incidents completed in the step.
The load generator shares the same 2 cores with the API and PostgreSQL, as it must here.
Prints a table of the steps and, as the last line, a JSON object with `max_rate_p99_150`.

    .venv/bin/python bench/intake_load.py [--step-seconds 30] [--rate R] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.common import Machine, add_account, demo_copy, district_code, drop, log, pct
from gis_api.cases.categories import default_catalog
from gis_api.locate.index import NO_GRID, LocateIndexCache
from gis_api.simulate.households import HouseholdSampler

DATABASE = "wangge_bench_intake"
USERNAME, PASSWORD = "bench_intake", "bench-intake-password"
TARGET_P99_MS = 150.0
LADDER = (0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 65.0, 80.0, 100.0)
SHIFT_S = 2.0
GRACE_S = 5.0
"""After a step's last arrival: time for the incidents in flight to finish and their events to arrive."""


@dataclass
class Step:
    """One offered rate and what came of it."""

    rate: float
    seconds: float
    offered: int = 0
    completed: int = 0
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    dispatched_at: dict[int, float] = field(default_factory=dict)
    """case id -> scheduled send time, for incidents whose dispatch was acknowledged."""
    latencies_ms: list[float] = field(default_factory=list)
    request_ms: dict[str, list[float]] = field(default_factory=dict)
    lost: int = 0

    @property
    def p99(self) -> float:
        return pct(self.latencies_ms, 99)

    @property
    def passed(self) -> bool:
        return (
            self.p99 <= TARGET_P99_MS
            and not self.errors
            and self.lost == 0
            and self.completed >= 0.95 * self.offered
        )

    def figures(self) -> dict[str, object]:
        return {
            "offered_per_s": self.rate,
            "incidents_per_s": round(self.completed / self.seconds, 2),
            "req_per_s": round(self.requests / self.seconds, 1),
            "p50_ms": round(pct(self.latencies_ms, 50), 1),
            "p99_ms": round(self.p99, 1),
            "errors": sum(self.errors.values()),
            "lost": self.lost,
            "request_p50_ms": {kind: round(pct(ms, 50), 1) for kind, ms in sorted(self.request_ms.items())},
            "offered": self.offered,
            "completed": self.completed,
            "passed": self.passed,
        }


class Events:
    """The SSE follower: arrival time of each case's dispatch event."""

    def __init__(self) -> None:
        self.dispatched: dict[int, float] = {}
        self.connected = asyncio.Event()

    async def follow(self, base: str, token: str) -> None:
        """Follow the stream for the whole run (it ends after an hour: resume after the last id)."""
        headers, after = {"Authorization": f"Bearer {token}"}, None
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=None) as client:
            while True:
                params = {"max_seconds": 3600, **({"after": after} if after is not None else {})}
                async with client.stream("GET", "/events/stream", params=params) as response:
                    response.raise_for_status()
                    async for line in response.aiter_lines():
                        after = self.read(line, after)

    def read(self, line: str, after: int | None) -> int | None:
        """Note a dispatch event's arrival; returns the last event id seen."""
        if line.startswith(": connected"):
            self.connected.set()
        elif line.startswith("id: "):
            return int(line[4:])
        elif line.startswith("data: "):
            event = json.loads(line[6:])
            if (event.get("data") or {}).get("action") == "dispatch":
                self.dispatched.setdefault(int(event["case_id"]), time.monotonic())
        return after


@dataclass
class Workload:
    """Incident positions (inside a grid, near households) and categories, drawn before the run."""

    lonlat: np.ndarray
    categories: list[str]

    @classmethod
    def draw(cls, url: str, count: int, seed: int) -> Workload:
        rng = np.random.default_rng(seed)
        engine = create_engine(url)
        district = district_code(engine)
        with Session(engine) as session:
            sampler = HouseholdSampler.from_session(session, spread_m=30.0, district=district)
            index = LocateIndexCache().current(session)
        engine.dispose()
        assert index is not None, "the demo copy has no active plan"
        points = np.array([sampler.draw(rng) for _ in range(int(count * 1.2) + 10)])
        inside = index.lookup(points[:, 0], points[:, 1]) != NO_GRID
        return cls(points[inside][:count], default_catalog().sample(rng, count))


async def incident(
    client: httpx.AsyncClient, step: Step, at: float, position: np.ndarray, category: str, key: str
) -> None:
    """Report, accept, register, dispatch, starting at the scheduled time `at` (monotonic)."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    body = {"category_code": category, "lon": float(position[0]), "lat": float(position[1])}
    case = await call(client, step, "/cases", body, {"Idempotency-Key": key})
    if case is None:
        return
    case_id = int(case["id"])
    for path in ("actions/accept", "actions/register", "dispatch"):
        if await call(client, step, f"/cases/{case_id}/{path}", {}) is None:
            return
    step.completed += 1
    step.dispatched_at[case_id] = at


async def call(
    client: httpx.AsyncClient, step: Step, path: str, body: dict, headers: dict[str, str] | None = None
) -> dict | None:
    started = time.monotonic()
    try:
        response = await client.post(path, json=body, headers=headers)
    except httpx.HTTPError as error:
        step.errors[type(error).__name__] += 1
        return None
    step.requests += 1
    kind = path.rsplit("/", 1)[-1] if path != "/cases" else "report"
    step.request_ms.setdefault(kind, []).append((time.monotonic() - started) * 1000)
    if response.status_code >= 400:
        step.errors[f"{response.status_code} {path.rsplit('/', 1)[-1]}"] += 1
        return None
    answer: dict = response.json()
    return answer


async def run_step(
    client: httpx.AsyncClient, events: Events, workload: Workload, rate: float, seconds: float, seed: int
) -> Step:
    """Poisson arrivals at `rate` for `seconds`; latencies from each scheduled time to its event."""
    rng = np.random.default_rng(seed)
    step = Step(rate, seconds)
    gaps = rng.exponential(1.0 / rate, size=int(rate * seconds * 2) + 20)
    offsets = np.cumsum(gaps)
    offsets = offsets[offsets < seconds]
    step.offered = len(offsets)
    start = time.monotonic() + 0.2
    count = len(workload.categories)
    tasks = [
        asyncio.create_task(
            incident(client, step, start + float(offset), workload.lonlat[(seed + i) % count],
                     workload.categories[(seed + i) % count], f"intake-{uuid.uuid4().hex}")
        )
        for i, offset in enumerate(offsets.tolist())
    ]  # fmt: skip
    _, pending = await asyncio.wait(tasks, timeout=seconds + GRACE_S + 0.2)
    for task in pending:
        task.cancel()
    step.errors["unfinished"] += len(pending)
    if not step.errors["unfinished"]:
        del step.errors["unfinished"]
    await asyncio.sleep(1.0)  # the last events are on their way
    for case_id, at in step.dispatched_at.items():
        arrived = events.dispatched.get(case_id)
        if arrived is None:
            step.lost += 1
        else:
            step.latencies_ms.append((arrived - at) * 1000)
    return step


def free_members(url: str, stop: threading.Event) -> None:
    """Every SHIFT_S seconds members go back to available (a shift change)."""
    engine = create_engine(url)
    while not stop.wait(SHIFT_S):
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE team_member SET status = 'available' WHERE status <> 'available'")
            )
    engine.dispose()


async def search(base: str, workload: Workload, args: argparse.Namespace) -> list[Step]:
    """The ladder (or the one --rate), then bisection between the last pass and the first failure."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as anonymous:
        token = (
            await anonymous.post("/auth/token", data={"username": USERNAME, "password": PASSWORD})
        ).json()
    events = Events()
    follower = asyncio.create_task(events.follow(base, token["access_token"]))
    await asyncio.wait_for(events.connected.wait(), timeout=30)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    steps: list[Step] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30, limits=limits) as client:

        async def measure(rate: float) -> Step:
            step = await run_step(
                client, events, workload, rate, args.step_seconds, seed=len(steps) * 100_003
            )
            steps.append(step)
            f = step.figures()
            log(f"{rate:g}/s offered: {f['incidents_per_s']}/s done, p50 {f['p50_ms']} ms, "
                f"p99 {f['p99_ms']} ms, "
                f"errors {f['errors']}, lost {f['lost']} -> {'pass' if step.passed else 'FAIL'}")  # fmt: skip
            return step

        await measure(args.rate if args.rate else LADDER[0] / 2)  # warm-up: caches, graph, connections
        steps.clear()
        rates = [args.rate] if args.rate else list(LADDER)
        passed, failed = 0.0, 0.0
        for rate in rates:
            if (await measure(rate)).passed:
                passed = rate
            else:
                failed = rate
                break
        for _ in range(args.refine if passed and failed else 0):
            middle = round((passed + failed) / 2, 1)
            if (await measure(middle)).passed:
                passed = middle
            else:
                failed = middle
    follower.cancel()
    return steps


def print_table(steps: list[Step], machine: Machine, workers: int) -> None:
    print(f"\n{machine.header()}")
    print(f"API: {workers} uvicorn workers; open-loop Poisson arrivals; 4 requests per incident; "
          "latency from "
          "the scheduled send time to the dispatch event on SSE")  # fmt: skip
    head = f"{'offered/s':>10}{'done/s':>9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'lost':>6}"
    head += "  result"
    print(head + "\n" + "-" * len(head))
    for step in sorted(steps, key=lambda s: s.rate):
        f = step.figures()
        note = ", ".join(f"{k}: {v}" for k, v in step.errors.most_common(3))
        print(f"{step.rate:>10g}{f['incidents_per_s']:>9}{f['req_per_s']:>8}{f['p50_ms']:>9}{f['p99_ms']:>9}"
              f"{f['errors']:>8}{f['lost']:>6}  {'pass' if step.passed else 'FAIL'} {note}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=None, help="run only this offered rate (incidents/s)")
    parser.add_argument("--refine", type=int, default=2, help="bisection steps after the first failure")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="8 s steps, one refinement (development only)")
    args = parser.parse_args()
    if args.quick:
        args.step_seconds, args.refine = 8.0, 1
    machine = Machine()
    url = demo_copy(DATABASE)
    engine = create_engine(url)
    add_account(engine, USERNAME, PASSWORD, "district_operator", district_code(engine))
    engine.dispose()
    workload = Workload.draw(url, 20_000, seed=420106)
    stop = threading.Event()
    shifts = threading.Thread(target=free_members, args=(url, stop), daemon=True)
    api, base = start_api(url, args.workers)
    log(f"API up on {base} with {args.workers} workers; {len(workload.categories):,} incidents drawn")
    shifts.start()
    try:
        steps = asyncio.run(search(base, workload, args))
    finally:
        stop.set()
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=30)
        shifts.join(timeout=10)
        drop(DATABASE)
    print_table(steps, machine, args.workers)
    good = [s for s in steps if s.passed]
    best = max(good, key=lambda s: s.rate) if good else None
    # the figures at the highest passing rate; when none passes, at the lowest rate offered (so the
    # JSON still says what the server achieved, and `max_rate_p99_150` 0 says it failed the target)
    headline = best or min(steps, key=lambda s: s.rate)
    figures = {
        "max_rate_p99_150": best.rate if best else 0.0,
        "offered_per_s": headline.rate,
        **{
            k: headline.figures()[k]
            for k in ("incidents_per_s", "req_per_s", "p50_ms", "p99_ms", "errors", "lost")
        },
        "workers": args.workers,
        "step_seconds": args.step_seconds,
        "steps": [s.figures() for s in sorted(steps, key=lambda s: s.rate)],
        "target_p99_ms": TARGET_P99_MS,
        **machine.figures(),
    }
    print(
        f"\nhighest offered rate with p99 <= {TARGET_P99_MS:.0f} ms: "
        f"{figures['max_rate_p99_150']:g} incidents/s"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

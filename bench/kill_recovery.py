"""Benchmark: SIGKILL the API during a load of case reports; nothing acknowledged is lost or doubled.

Starts everything itself: a scratch database in the embedded cluster (the synthetic district of
bench/intake_load.py), then the API under uvicorn with 2 worker processes on loopback. A few
concurrent clients post incidents, each with its own Idempotency-Key, for --seconds in total. At
--kill-at seconds the whole uvicorn process group gets SIGKILL (no shutdown, in-flight requests cut
off); the API is started again, every request that was not acknowledged is retried with the same
key, and the load continues. Then the database is checked:

- lost: an acknowledged case (201/200 with an id) that is not in the database under its key;
- duplicated: a key stored more than once, a case stored under a key nobody sent, or a retry or
  replay of a key that answered with a different case than the first acknowledgement.

Every acknowledged key is also re-posted after the restart (a client that missed nothing but
retries anyway) and must return the original case. Last line: a JSON object
{acknowledged, retried, lost, duplicated, ...}; lost and duplicated must be 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.intake_load import (
    COMMUNITIES,
    GRID_H,
    GRID_W,
    SOUTH,
    STREETS,
    WEST,
    seed_district,
    seed_roads,
)
from gis_api.auth.service import create_user
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster

DATABASE = "wangge_bench_kill"
OPERATOR, PASSWORD = "kill_op", "kill-password-1"
KEY_PREFIX = "kill-"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


@dataclass
class Ledger:
    """What the clients know: acknowledged keys (-> case id) and requests that got no answer."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    unanswered: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, body: dict[str, Any], outcome: int | str, case_id: int | None) -> None:
        with self.lock:
            self.statuses[str(outcome)] += 1
            if case_id is not None:
                self.acknowledged[key] = case_id
                self.unanswered.pop(key, None)
            else:
                self.unanswered[key] = body


def prepare_database(cluster: EmbeddedCluster) -> str:
    cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE)
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        seed_district(connection, np.random.default_rng(420106))
        seed_roads(connection)
    with Session(engine) as session:
        create_user(session, OPERATOR, PASSWORD, "district_operator", "420106")
    engine.dispose()
    log(f"scratch database {DATABASE} with the synthetic district (48 grids)")
    return url


def token(base: str) -> str:
    response = httpx.post(f"{base}/auth/token", data={"username": OPERATOR, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def post_case(
    client: httpx.Client, base: str, key: str, body: dict[str, Any]
) -> tuple[int | str, int | None]:
    """(status or transport error name, case id when acknowledged)."""
    try:
        response = client.post(f"{base}/cases", json=body, headers={"Idempotency-Key": key}, timeout=15)
    except httpx.TransportError as error:
        return type(error).__name__, None
    if response.status_code in (200, 201):
        return response.status_code, int(response.json()["id"])
    return response.status_code, None


def report_body(rng: np.random.Generator, n: int) -> dict[str, Any]:
    east, north = WEST + 2 * STREETS * GRID_W, SOUTH + 2 * COMMUNITIES * GRID_H
    lon, lat = rng.uniform(WEST + 0.001, east - 0.001), rng.uniform(SOUTH + 0.001, north - 0.001)
    return {"category_code": "E0201", "lon": float(lon), "lat": float(lat), "description": f"kill test {n}"}


def client_loop(base: str, bearer: str, name: str, ledger: Ledger, stop_at: float, seed: int) -> None:
    """Post new reports until stop_at or until the API is gone (no answer at all)."""
    rng = np.random.default_rng(seed)
    with httpx.Client(headers={"Authorization": f"Bearer {bearer}"}) as client:
        n = 0
        while time.monotonic() < stop_at:
            key, body = f"{KEY_PREFIX}{name}-{n}", report_body(rng, n)
            n += 1
            outcome, case_id = post_case(client, base, key, body)
            ledger.record(key, body, outcome, case_id)
            if case_id is None and not isinstance(outcome, int):
                return  # the server is gone: this request stays unanswered until the restart


def run_clients(base: str, bearer: str, ledger: Ledger, seconds: float, clients: int, phase: str) -> None:
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(base, bearer, f"{phase}{i}", ledger, stop_at, 1000 * ord(phase) + i),
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        time.sleep(2)
        log(f"{phase}: {len(ledger.acknowledged)} acknowledged, {len(ledger.unanswered)} unanswered")
    for thread in threads:
        thread.join()


def kill_during(process: subprocess.Popen[bytes], base: str, bearer: str, ledger: Ledger, args: Any) -> int:
    """Load for kill_at seconds, SIGKILL the process group while the clients are still posting."""
    timer = threading.Timer(args.kill_at, lambda: os.killpg(process.pid, signal.SIGKILL))
    timer.start()
    run_clients(base, bearer, ledger, args.kill_at + 30, args.clients, "a")  # they stop at the kill
    timer.join()
    process.wait(timeout=10)
    cut = len(ledger.unanswered)
    log(f"SIGKILL to process group {process.pid} at {args.kill_at:.1f} s: {cut} request(s) cut off")
    return cut


Outcome = tuple[str, int | str, int | None]
"""(key, HTTP status or transport error name, case id when acknowledged)."""


def retry(
    base: str, bearer: str, requests: dict[str, dict[str, Any]], workers: int
) -> tuple[Counter[str], list[Outcome]]:
    """Send each request again with its original key: status counts and every outcome."""
    with httpx.Client(headers={"Authorization": f"Bearer {bearer}"}) as client:

        def one(item: tuple[str, dict[str, Any]]) -> Outcome:
            outcome, case_id = post_case(client, base, item[0], item[1])
            return item[0], outcome, case_id

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, requests.items()))
    return Counter(str(outcome) for _, outcome, _ in results), results


def stored_cases(url: str, user_id: int) -> dict[str, list[int]]:
    """Case ids per client key, as the database has them (keys are stored per account)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT idempotency_key, id FROM incident WHERE idempotency_key IS NOT NULL")
        ).all()
    engine.dispose()
    prefix = f"u{user_id}:"
    found: dict[str, list[int]] = {}
    for key, case_id in rows:
        found.setdefault(key.removeprefix(prefix) if key.startswith(prefix) else f"?{key}", []).append(
            int(case_id)
        )
    return found


def user_id_of(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": OPERATOR})
        user_id = int(found.scalar_one())
    engine.dispose()
    return user_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="total load time")
    parser.add_argument("--kill-at", type=float, default=9.0, help="SIGKILL after this many seconds")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    url = prepare_database(cluster)
    process, base = start_api(url, workers=2)
    try:
        report = exercise(url, process, base, args)
    finally:
        for running in (process, getattr(args, "restarted", None)):
            if running is not None and running.poll() is None:
                os.killpg(running.pid, signal.SIGTERM)
                running.wait(timeout=20)
        if not args.keep_database:
            cluster.drop_database(DATABASE)
    print_table(report)
    print(json.dumps(report))


def exercise(url: str, process: subprocess.Popen[bytes], base: str, args: Any) -> dict[str, Any]:
    ledger = Ledger()
    bearer = token(base)
    started = time.monotonic()
    cut = kill_during(process, base, bearer, ledger, args)
    down_at = time.monotonic()
    restarted, base = start_api(url, workers=2)
    args.restarted = restarted
    log(f"API back after {time.monotonic() - down_at:.1f} s")
    pending = dict(ledger.unanswered)
    retry_counts, retried = retry(base, bearer, pending, args.clients)
    for key, outcome, case_id in retried:
        ledger.record(key, pending[key], outcome, case_id)
    replayed_on_retry = retry_counts.get("200", 0)
    log(f"retried {len(pending)}: {dict(retry_counts)} (200 = committed before the kill, answer lost)")
    remaining = max(args.seconds - (down_at - started), 1.0)
    run_clients(base, bearer, ledger, remaining, args.clients, "b")
    acked = dict(ledger.acknowledged)
    return verify(url, base, bearer, ledger, acked, len(pending), replayed_on_retry, cut, args)


def verify(
    url: str,
    base: str,
    bearer: str,
    ledger: Ledger,
    acked: dict[str, int],
    retried: int,
    replayed_on_retry: int,
    cut: int,
    args: Any,
) -> dict[str, Any]:
    """Compare what clients were told with what the database holds, then replay every key once more."""
    stored = stored_cases(url, user_id_of(url))
    lost = [key for key, case_id in acked.items() if case_id not in stored.get(key, [])]
    doubled = [key for key, ids in stored.items() if len(ids) > 1]
    strangers = [key for key in stored if key not in acked]
    replay_mismatch = replay_all(base, bearer, acked, url, args.clients)
    after = stored_cases(url, user_id_of(url))
    grew = sum(len(ids) for ids in after.values()) - sum(len(ids) for ids in stored.values())
    return {
        "acknowledged": len(acked),
        "retried": retried,
        "lost": len(lost),
        "duplicated": len(doubled) + len(strangers) + replay_mismatch + max(grew, 0),
        "cut_off_by_kill": cut,
        "committed_but_unacknowledged": replayed_on_retry,
        "unanswered_after_retry": len(ledger.unanswered),
        "replayed_keys": len(acked),
        "replay_mismatches": replay_mismatch,
        "statuses": dict(ledger.statuses),
    }


def replay_all(base: str, bearer: str, acked: dict[str, int], url: str, workers: int) -> int:
    """Re-post every acknowledged key with its stored report (a retry must match the original or it
    is refused) and count answers other than 200 with the original case."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, category_code, description, ST_X(geom), ST_Y(geom) FROM incident")
        ).all()
    engine.dispose()
    by_id = {int(r[0]): {"category_code": r[1], "description": r[2], "lon": r[3], "lat": r[4]} for r in rows}
    requests = {key: by_id[case_id] for key, case_id in acked.items() if case_id in by_id}
    counts, results = retry(base, bearer, requests, workers)
    log(f"re-posted all {len(requests)} acknowledged keys: {dict(counts)}")
    return sum(1 for key, outcome, case_id in results if outcome != 200 or case_id != acked[key])


def print_table(report: dict[str, Any]) -> None:
    rows = [
        ("acknowledged cases", report["acknowledged"]),
        ("requests cut off by SIGKILL", report["cut_off_by_kill"]),
        ("retried with the same key", report["retried"]),
        ("  of which committed before the kill", report["committed_but_unacknowledged"]),
        ("still unanswered after retry", report["unanswered_after_retry"]),
        ("acknowledged keys re-posted", report["replayed_keys"]),
        ("lost (must be 0)", report["lost"]),
        ("duplicated (must be 0)", report["duplicated"]),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value:>6}")
    print(f"{'HTTP outcomes':<{width}}  {report['statuses']}")


if __name__ == "__main__":
    main()

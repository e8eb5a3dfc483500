"""Benchmark: where one household tile request's time goes, stage by stage, before and after the
autocommit read session (the tile's audit row written by the tile's own statement).

On the city benchmark's database (wangge_bench_city by default, `--database` another one holding
a city, e.g. bench/city_kpi.py's), as the API role with the API's engine settings (pool pre-ping),
for the same random household tiles bench/city.py asks (z14-16), two ways of serving each tile,
taking turns at going first:
  - transactional (the route before): checkout + ping, BEGIN + the account, the ETag query, the
    tile, gzip, the audit INSERT and the COMMIT that makes it durable (7 round trips);
  - autocommit (the route now): checkout + ping, the account, the ETag query, the tile with its
    audit row in one statement that commits before it returns, gzip (4 round trips).
Both write one durable audit row per tile. With --http it also times, over loopback, /health and
one tile served repeatedly from the API's memory (the per-request cost without any SQL render), for
this checkout and for --baseline-checkout DIR if given (another checkout's API on the same data;
both APIs run at once and are asked in turns). With --clients N, the sample's cold tiles (z14-16, as
bench/city.py asks them) by N clients at once, a fresh API per round, the checkouts alternating.
Prints a table and, last, a JSON line with the core count and the load average.

    .venv/bin/python bench/tile_stages.py [--database NAME] [--tiles 40] [--http] [--clients 8 [--rounds 4]]
                                          [--baseline-checkout DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.city import DATABASE, PASSWORD, ZOOMS, log, login, p, tiles_to_ask
from bench.city_tiles import ADMIN
from gis_api.auth.service import active_principal, create_user
from gis_api.config import get_settings
from gis_api.db.cluster import EmbeddedCluster
from gis_api.db.roles import API_ROLE, role_url
from gis_api.db.session import engine_for, read_session_factory, session_factory
from gis_api.tiles.service import (
    Tile,
    TileAddress,
    TileRequest,
    audit_delivery,
    compressed,
    render_audited_tile,
    render_tile,
    tile_etag,
)

Marks = list[tuple[str, float]]


def _up_to_etag(session: Session, user_id: int, address: TileAddress) -> tuple[Marks, TileRequest, list[int]]:
    """The stages both ways share: connection, account, ETag (each marked)."""
    marks: Marks = [("start", time.perf_counter())]
    session.connection()
    marks.append(("checkout+ping", time.perf_counter()))
    principal = active_principal(session, user_id)
    marks.append(("account", time.perf_counter()))
    request = TileRequest("households", address, principal)
    plan_ids, _ = tile_etag(session, request, 0)
    marks.append(("etag", time.perf_counter()))
    return marks, request, plan_ids


def transactional(session: Session, user_id: int, address: TileAddress) -> tuple[Marks, Tile]:
    marks, request, plan_ids = _up_to_etag(session, user_id, address)
    tile = render_tile(session, request, plan_ids)
    marks.append(("tile", time.perf_counter()))
    tile = compressed(tile)
    marks.append(("gzip", time.perf_counter()))
    audit_delivery(session, request, tile)
    marks.append(("audit+commit", time.perf_counter()))
    return marks, tile


def autocommit(session: Session, user_id: int, address: TileAddress) -> tuple[Marks, Tile]:
    marks, request, plan_ids = _up_to_etag(session, user_id, address)
    tile = render_audited_tile(session, request, plan_ids)
    marks.append(("tile+audit", time.perf_counter()))
    tile = compressed(tile)
    marks.append(("gzip", time.perf_counter()))
    return marks, tile


WAYS: dict[str, Callable[[Session, int, TileAddress], tuple[Marks, Tile]]] = {
    "transactional": transactional,
    "autocommit": autocommit,
}


def stages_side_by_side(
    engine: Engine, user_id: int, tiles: dict[int, list[tuple[int, int]]]
) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per stage (and total, with the session's close) of each way, per tile."""
    factories: dict[str, sessionmaker[Session]] = {
        "transactional": session_factory(engine),
        "autocommit": read_session_factory(engine),
    }
    found: dict[str, dict[str, list[float]]] = {name: {} for name in WAYS}
    turn = 0
    for z, pairs in tiles.items():
        for x, y in pairs:
            order = list(WAYS) if turn % 2 == 0 else list(reversed(WAYS))
            turn += 1
            for name in order:
                with factories[name]() as session:
                    marks, _ = WAYS[name](session, user_id, TileAddress(z, x, y))
                marks.append(("close", time.perf_counter()))
                stages = found[name]
                for (_, before), (stage, after) in itertools.pairwise(marks):
                    stages.setdefault(stage, []).append((after - before) * 1000)
                stages.setdefault("total", []).append((marks[-1][1] - marks[0][1]) * 1000)
    return found


def http_sides(
    url: str, tile: tuple[int, int, int], calls: int, checkouts: dict[str, Path | None]
) -> dict[str, dict[str, float]]:
    """p50/p95 of /health and of one household tile served from the API's memory, for each
    checkout's API (all running at once, asked in turns, so the machine's moments hit them alike)."""
    started = {name: start_api(url, cwd=code) if code else start_api(url) for name, code in checkouts.items()}
    z, x, y = tile
    path = f"/tiles/households/{z}/{x}/{y}.mvt"
    times: dict[str, dict[str, list[float]]] = {
        name: {"health": [], "tile_from_memory": []} for name in started
    }
    clients = {name: httpx.Client(base_url=base, timeout=60) for name, (_, base) in started.items()}
    try:
        for client in clients.values():
            login(client, ADMIN)
            client.get(path).raise_for_status()  # now in that API's memory
        for _ in range(calls):
            for name, client in clients.items():
                for what, target in (("health", "/health"), ("tile_from_memory", path)):
                    begun = time.perf_counter()
                    client.get(target).raise_for_status()
                    times[name][what].append((time.perf_counter() - begun) * 1000)
    finally:
        for client in clients.values():
            client.close()
        for api, _ in started.values():
            api.kill()
            api.wait()
    return {
        name: {f"{what}_{q}": p(values, q) for what, values in found.items() for q in (50, 95)}
        for name, found in times.items()
    }


def concurrent_cold(
    url: str,
    tiles: dict[int, list[tuple[int, int]]],
    clients: int,
    checkouts: dict[str, Path | None],
    rounds: int,
) -> dict[str, list[dict[str, float]]]:
    """Cold household tiles asked by `clients` clients at once (a browser asks 6-12 together): per
    round and checkout a fresh API (every tile cold in its memory), the checkouts' order alternating
    between rounds; p50/p95 of the requests and tiles per second."""
    paths = [f"/tiles/households/{z}/{x}/{y}.mvt" for z, pairs in tiles.items() for x, y in pairs]
    found: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for turn in range(rounds):
        order = list(checkouts) if turn % 2 == 0 else list(reversed(checkouts))
        for name in order:
            code = checkouts[name]
            api, base = start_api(url, cwd=code) if code else start_api(url)
            try:
                limits = httpx.Limits(max_connections=clients)
                with httpx.Client(base_url=base, timeout=120, limits=limits) as client:
                    login(client, ADMIN)

                    def one(path: str, client: httpx.Client = client) -> float:
                        begun = time.perf_counter()
                        client.get(path).raise_for_status()
                        return (time.perf_counter() - begun) * 1000

                    begun = time.perf_counter()
                    with ThreadPoolExecutor(clients) as pool:
                        times = list(pool.map(one, paths))
                    wall = time.perf_counter() - begun
            finally:
                api.kill()
                api.wait()
            found[name].append(
                {"p50": p(times, 50), "p95": p(times, 95), "tiles_per_s": round(len(paths) / wall, 1)}
            )
            log(f"{clients} clients, {name}: {found[name][-1]}")
    return found


def ensure_admin(owner: Engine) -> int:
    """The city admin the benchmarks log in as (created if this database has none yet)."""
    find = text("SELECT id FROM app_user WHERE username = :u")
    with Session(owner) as session:
        if session.execute(find, {"u": ADMIN}).scalar() is None:
            create_user(session, ADMIN, PASSWORD, "admin", "4201")
            session.commit()
        return int(session.execute(find, {"u": ADMIN}).scalar_one())


def print_table(figures: dict[str, Any]) -> None:
    stages = figures["stages"]
    print(f"\n{'stage (ms, p50 / p95)':<22}{'transactional (before)':>26}{'autocommit (now)':>22}")
    names = list(dict.fromkeys([*stages["transactional"], *stages["autocommit"]]))
    for name in names:
        cells = []
        for way in WAYS:
            row = stages[way].get(name)
            cells.append(f"{row['p50']} / {row['p95']}" if row else "-")
        print(f"{name:<22}{cells[0]:>26}{cells[1]:>22}")
    for side, values in figures.get("http", {}).items():
        print(f"http {side}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
    for side, runs in figures.get("concurrent", {}).items():
        print(f"{figures['clients']} clients, cold tiles, {side}: " + "; ".join(str(run) for run in runs))
    load = " / ".join(f"{value:.2f}" for value in figures["loadavg"])
    print(f"{figures['tiles']} tiles; machine: {figures['cpu_count']} cores, load average {load}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DATABASE, help="a database holding a city (not rebuilt)")
    parser.add_argument("--tiles", type=int, default=40, help="tiles per zoom")
    parser.add_argument("--http", action="store_true", help="also /health and a tile from memory over HTTP")
    parser.add_argument("--http-calls", type=int, default=100)
    parser.add_argument(
        "--baseline-checkout", type=Path, help="with --http/--clients: another checkout's API too"
    )
    parser.add_argument(
        "--clients", type=int, default=0, help="also the sample's cold tiles by N clients at once"
    )
    parser.add_argument("--rounds", type=int, default=4, help="with --clients: rounds per checkout")
    args = parser.parse_args()
    settings = get_settings()
    cluster = EmbeddedCluster(settings.var_dir)
    cluster.ensure_running()
    owner_url = cluster.create_database(args.database, exist_ok=True)
    owner = engine_for(owner_url)
    user_id = ensure_admin(owner)
    api_url = role_url(owner_url, API_ROLE, settings.var_dir).replace(
        "postgresql://", "postgresql+psycopg2://"
    )
    engine = engine_for(api_url)
    sample = tiles_to_ask(owner, np.random.default_rng(settings.demo_seed))
    tiles = {z: sample[z][: args.tiles] for z in ZOOMS}
    figures: dict[str, Any] = {
        "database": args.database,
        "loadavg_start": [round(v, 2) for v in os.getloadavg()],
    }
    log(f"stages of {sum(len(v) for v in tiles.values())} tiles, both ways, taking turns")
    found = stages_side_by_side(engine, user_id, tiles)
    figures["stages"] = {
        way: {stage: {"p50": p(v, 50), "p95": p(v, 95)} for stage, v in stages.items()}
        for way, stages in found.items()
    }
    figures["tiles"] = sum(len(v) for v in tiles.values())
    if args.http:
        checkouts: dict[str, Path | None] = {"this_checkout": None}
        if args.baseline_checkout:
            checkouts["baseline_checkout"] = args.baseline_checkout
        figures["http"] = http_sides(owner_url, (16, *sample[16][0]), args.http_calls, checkouts)
    if args.clients:
        sides: dict[str, Path | None] = {"this_checkout": None}
        if args.baseline_checkout:
            sides["baseline_checkout"] = args.baseline_checkout
        figures["concurrent"] = concurrent_cold(owner_url, sample, args.clients, sides, args.rounds)
        figures["clients"] = args.clients
    figures["cpu_count"] = os.cpu_count()
    figures["loadavg"] = [round(value, 2) for value in os.getloadavg()]
    print_table(figures)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

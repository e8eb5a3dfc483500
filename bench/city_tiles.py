"""Benchmark: household tiles z14-16 at city scale, stored per-building counts against counting rows.

Uses the city benchmark's database (wangge_bench_city, see bench/city.py): with --load it
generates and stores the city first (the code of `wangge demo --city`, timed: load_s includes the
building_households triggers), otherwise it reuses what an earlier run stored. Then, for the same
random household tiles bench/city.py asks (same seed: TILES_PER_ZOOM per zoom z14-16):
  - api          GET /tiles/households/{z}/{x}/{y}.mvt as a city-scope admin, cold (first request
                 of the tile), the API (uvicorn, one process, loopback): the figure tile_p95_ms;
  - sql_stored   z14-15 rendered in the database from building_households (what the API runs);
  - sql_by_row   naive (the code before migration 0014): the same tiles counting every household
                 row of the tile per building, in the database; the two take turns at going
                 first on a tile, as the first meets the colder buffers;
  - sql_points   z16 rendered as the API does (grid codes looked up for the tile's few grids) and
                 naive (the code before): joined per household, which hashes every grid of the
                 city per tile; same turns, and the decoded features must be equal.
Counts the tiles where both SQL variants give the same number of features inside the city (a building at a
tile's edge may differ: the stored count holds all its households, the row count only those in
the tile's buffer). Prints a table and, as the last line, a JSON object with os.getloadavg().

    .venv/bin/python bench/city_tiles.py [--load [--scale 1.0] [--districts 420106,420102]]
                                         [--baseline-checkout DIR]  (its API timed first, same tiles)
                                         [--database NAME]  (another database holding a city)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.city import CITY, DATABASE, PASSWORD, ZOOMS, log, login, p, tiles_to_ask
from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.auth.service import create_user
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.city.load import load_city
from gis_api.households.service import scope_clause
from gis_api.tiles.layers import HOUSEHOLD_BUILDINGS_BY_ROW_SQL
from gis_api.tiles.service import TileAddress, TileRequest, render_tile
from tests.tiles.mvt import Feature, decode

TARGET_P95_MS = 50.0
ADMIN = "bench_city_admin"
CITY_ADMIN = Principal(0, ADMIN, Role.ADMIN, CITY)


def api_cold(
    url: str, tiles: dict[int, list[tuple[int, int]]], checkout: Path | None = None
) -> dict[int, list[float]]:
    """Milliseconds of the first request of each tile through the API (of `checkout` if given)."""
    api, base = start_api(url, cwd=checkout) if checkout else start_api(url)
    times: dict[int, list[float]] = {z: [] for z in tiles}
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            login(client, ADMIN)
            for z, pairs in tiles.items():
                for x, y in pairs:
                    started = time.perf_counter()
                    client.get(f"/tiles/households/{z}/{x}/{y}.mvt").raise_for_status()
                    times[z].append((time.perf_counter() - started) * 1000)
    finally:
        api.kill()
        api.wait()
    return times


def by_row(connection: Connection, address: TileAddress) -> tuple[bytes, int]:
    """The tile as the code before migration 0014 drew it for a city scope (rows per building)."""
    scope_sql, params = scope_clause(CITY_ADMIN)
    values = {"z": address.z, "x": address.x, "y": address.y, **address.bounds(), **params}
    connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    body, features = connection.execute(
        text(HOUSEHOLD_BUILDINGS_BY_ROW_SQL.format(scope=scope_sql)), values
    ).one()
    return bytes(body or b""), int(features)


JOINED_POINTS_SQL = """
WITH bounds AS (SELECT 1)
SELECT ST_AsMVT(t, 'households', 4096, 'geom', 'id'), count(*) FROM (
    SELECT h.id, h.residents, g.code AS grid_code,
           ST_MakePoint(
               round(((ST_X(h.geom) * 20037508.342789244 / 180) - :x0) / :size * 4096),
               round((:y1 - (ln(tan((90 + ST_Y(h.geom)) * pi() / 360)) * 6378137)) / :size * 4096)
           ) AS geom
    FROM household h LEFT JOIN grid g ON g.id = h.grid_id
    WHERE h.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326) AND {scope}) AS t
WHERE t.geom IS NOT NULL
"""
"""Naive: the z16 query before (one join per household: the planner hashes all the city's grids)."""


def points_side_by_side(engine: Engine, tiles: dict[int, list[tuple[int, int]]]) -> dict[str, Any]:
    """Per z16 tile: the API's query and the joined one, taking turns at going first; the number of
    tiles whose decoded features differ (must be 0)."""
    times: dict[str, list[float]] = {"points": [], "joined": []}
    differ = 0
    scope_sql, params = scope_clause(CITY_ADMIN)
    for turn, (x, y) in enumerate(tiles[16]):
        address = TileAddress(16, x, y)
        bodies: dict[str, bytes] = {}
        for name in ("points", "joined") if turn % 2 == 0 else ("joined", "points"):
            with Session(engine) as session:
                started = time.perf_counter()
                if name == "points":
                    request = TileRequest("households", address, CITY_ADMIN)
                    bodies[name] = render_tile(session, request, []).body
                else:
                    values = {**address.bounds(), **params}
                    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
                    body, _ = session.execute(text(JOINED_POINTS_SQL.format(scope=scope_sql)), values).one()
                    bodies[name] = bytes(body or b"")
                times[name].append((time.perf_counter() - started) * 1000)
        differ += int(features_of(bodies["points"]) != features_of(bodies["joined"]))
    return {"points": times["points"], "joined": times["joined"], "different_points_tiles": differ}


def features_of(body: bytes) -> set[tuple[Any, ...]]:
    """(id, properties, first point) of each household feature (order-free: the plans may differ)."""
    layer = decode(body).get("households")
    features: list[Feature] = layer.features if layer else []
    return {(f.id, tuple(sorted(f.properties.items())), f.first_point) for f in features}


def sql_side_by_side(engine: Engine, tiles: dict[int, list[tuple[int, int]]]) -> dict[str, Any]:
    """Per z14-15 tile: stored counts and row counts, each in its own transaction, taking turns
    at going first (the first meets the colder buffers)."""
    times: dict[str, list[float]] = {"stored": [], "by_row": []}
    same = differ = 0
    addresses = [TileAddress(zoom, x, y) for zoom in (14, 15) for x, y in tiles[zoom]]
    for turn, address in enumerate(addresses):
        counts: dict[str, int] = {}
        for name in ("stored", "by_row") if turn % 2 == 0 else ("by_row", "stored"):
            with Session(engine) as session:
                started = time.perf_counter()
                if name == "stored":
                    counts[name] = render_tile(
                        session, TileRequest("households", address, CITY_ADMIN), []
                    ).features
                else:
                    counts[name] = by_row(session.connection(), address)[1]
                times[name].append((time.perf_counter() - started) * 1000)
        same, differ = (same + 1, differ) if counts["stored"] == counts["by_row"] else (same, differ + 1)
    return {**times, "same_feature_count": same, "different_feature_count": differ}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--load", action="store_true", help="(re)generate and store the city first")
    parser.add_argument("--scale", type=float, default=1.0, help="households times this (with --load)")
    parser.add_argument("--districts", help="comma-separated district codes (with --load; default: all 13)")
    parser.add_argument("--seed", type=int, default=get_settings().demo_seed)
    parser.add_argument(
        "--database", default=DATABASE, help="the database holding the city (e.g. bench/city_kpi.py's)"
    )
    parser.add_argument(
        "--baseline-checkout",
        type=Path,
        help="first time the API of this checkout (e.g. the commit before 0014) on the same tiles",
    )
    args = parser.parse_args()
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    if args.load:
        cluster.drop_database(args.database)
    url = cluster.create_database(args.database, exist_ok=True)
    engine = create_engine(url)
    migrate.upgrade(engine)
    figures: dict[str, Any] = {}
    if args.load:
        started = time.perf_counter()
        districts = args.districts.split(",") if args.districts else None
        log(str(load_city(engine, args.seed, scale=args.scale, districts=districts, progress=log)))
        figures["load_s"] = round(time.perf_counter() - started, 1)
        figures["load_loadavg"] = [round(value, 2) for value in os.getloadavg()]
    with Session(engine) as session:
        session.execute(text("DELETE FROM app_user WHERE username = :u"), {"u": ADMIN})
        create_user(session, ADMIN, PASSWORD, "admin", CITY)
        session.commit()
    tiles = tiles_to_ask(engine, np.random.default_rng(args.seed))
    if args.baseline_checkout:
        by_zoom(figures, "baseline_tile", api_cold(url, tiles, args.baseline_checkout))
    api = api_cold(url, tiles)
    sql = sql_side_by_side(engine, tiles)
    sql.update(points_side_by_side(engine, tiles))
    with engine.connect() as connection:
        figures["households"] = int(connection.execute(text("SELECT count(*) FROM household")).scalar_one())
        figures["buildings_with_households"] = int(
            connection.execute(
                text("SELECT count(DISTINCT building_id) FROM building_households")
            ).scalar_one()
        )
    engine.dispose()
    record(figures, api, sql)
    print_table(figures)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def by_zoom(figures: dict[str, Any], prefix: str, api: dict[int, list[float]]) -> None:
    """p95 and p50 of the API's cold tiles: all, z14-15 (building points), each zoom."""
    groups = {"": list(api), "_z14_15": [14, 15], **{f"_z{z}": [z] for z in api}}
    for suffix, zooms in groups.items():
        values = [ms for z in zooms for ms in api[z]]
        figures[f"{prefix}{suffix}_p95_ms"], figures[f"{prefix}{suffix}_p50_ms"] = (
            p(values, 95),
            p(values, 50),
        )


def record(figures: dict[str, Any], api: dict[int, list[float]], sql: dict[str, Any]) -> None:
    figures["tiles"] = sum(len(values) for values in api.values())
    by_zoom(figures, "tile", api)
    for name in ("stored", "by_row"):
        figures[f"sql_{name}_z14_15_p95_ms"] = p(sql[name], 95)
        figures[f"sql_{name}_z14_15_p50_ms"] = p(sql[name], 50)
        figures[f"sql_{name}_z14_15_max_ms"] = round(max(sql[name]), 2) if sql[name] else None
    for name in ("points", "joined"):
        figures[f"sql_{name}_z16_p95_ms"] = p(sql[name], 95)
        figures[f"sql_{name}_z16_p50_ms"] = p(sql[name], 50)
        figures[f"sql_{name}_z16_max_ms"] = round(max(sql[name]), 2) if sql[name] else None
    figures["different_points_tiles"] = sql["different_points_tiles"]
    figures["same_feature_count"] = sql["same_feature_count"]
    figures["different_feature_count"] = sql["different_feature_count"]
    figures["cpu_count"] = os.cpu_count()
    figures["loadavg"] = [round(value, 2) for value in os.getloadavg()]
    figures["target"] = f"tile_p95_ms <= {TARGET_P95_MS:g}"
    figures["missed"] = ["tile_p95_ms"] if figures["tile_p95_ms"] > TARGET_P95_MS else []


def pair(figures: dict[str, Any], prefix: str, suffixes: tuple[str, ...] = ("p95", "p50")) -> str:
    return " / ".join(str(figures[f"{prefix}_{suffix}_ms"]) for suffix in suffixes)


def print_table(figures: dict[str, Any]) -> None:
    f = figures
    rows = [("households", f["households"]), ("buildings with households", f["buildings_with_households"])]
    if "load_s" in f:
        rows.append(("load_s (with the triggers)", f["load_s"]))
    rows += [(f"api cold z{z} p95 / p50 ms", pair(f, f"tile_z{z}")) for z in ZOOMS]
    rows.append((f"api cold z14-16 p95 / p50 ms ({f['tiles']} tiles)", pair(f, "tile")))
    rows.append(("api cold z14-15 p95 / p50 ms", pair(f, "tile_z14_15")))
    if "baseline_tile_p95_ms" in f:
        rows.append(("baseline checkout: api cold z14-16 p95 / p50 ms", pair(f, "baseline_tile")))
        rows.append(("baseline checkout: api cold z14-15 p95 / p50 ms", pair(f, "baseline_tile_z14_15")))
        rows.append(("baseline checkout: api cold z16 p95 / p50 ms", pair(f, "baseline_tile_z16")))
    triple = ("p95", "p50", "max")
    rows.append(("sql z14-15 stored counts p95 / p50 / max ms", pair(f, "sql_stored_z14_15", triple)))
    rows.append(
        ("sql z14-15 row counts (naive, before) p95 / p50 / max", pair(f, "sql_by_row_z14_15", triple))
    )
    rows.append(("sql z16 points (codes per tile) p95 / p50 / max", pair(f, "sql_points_z16", triple)))
    rows.append(("sql z16 joined (naive, before) p95 / p50 / max", pair(f, "sql_joined_z16", triple)))
    rows.append(("z16 tiles whose decoded features differ", f["different_points_tiles"]))
    same, different = f["same_feature_count"], f["different_feature_count"]
    rows.append(("z14-15 tiles with the same feature count", f"{same} (different: {different})"))
    rows.append(("load average", " / ".join(str(v) for v in f["loadavg"])))
    rows.append(("target", f"tile_p95_ms <= {TARGET_P95_MS:g}: {'missed' if f['missed'] else 'met'}"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())

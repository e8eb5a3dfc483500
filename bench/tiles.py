"""Benchmark: household vector tiles (z14-z16) against GeoJSON of the same features, tile by tile.

Starts everything itself from a fresh checkout: the embedded cluster, a copy of the Wuchang demo
(bench/common.py), an admin account, then the API (uvicorn, one process, loopback).

Headline, per zoom on the same tile set (every z14-z16 tile that holds households), both sides in
the same process on the same connection, both timed from the SQL to the gzip-compressed bytes
(gzip level 6 for bodies of 1 KB or more, as the API sends them), each side the median of 3:
  - ours: the tile SQL the API runs (ST_AsMVT; one point per building with counts at z14-15, one
    per household from z16),
  - GeoJSON: the same features in the same bbox, built the way PostGIS users serve GeoJSON fast:
    one SQL per tile bbox that returns the whole FeatureCollection (json_agg of ST_AsGeoJSON
    rows, coordinates to 6 decimals, ~0.1 m, finer than the tile's 4096 grid).
Over HTTP, as a user gets them: GET /tiles/households/{z}/{x}/{y}.mvt cold (first request: rendered),
warm (from the API's memory) and revalidated (304). Naive, kept as extra rows: GET /households?bbox=
paging through every household of the bbox (what a client does without an aggregating endpoint).
Prints a table and, as the last line, a JSON object. Target: household tiles p95 <= 50 ms (cold).

    .venv/bin/python bench/tiles.py [--naive-tiles 30] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from bench.common import Machine, active_plan, add_account, demo_copy, district_code, drop, log, pct
from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.households.service import scope_clause
from gis_api.tiles.layers import HOUSEHOLD_POINTS_MIN_ZOOM
from gis_api.tiles.service import GZIP_MIN_BYTES, TileAddress, TileRequest, compressed, render_tile

DATABASE = "wangge_bench_tiles"
TARGET_P95_MS = 50.0
ZOOMS = (14, 15, 16)
REPEATS = 3
USERNAME, PASSWORD = "bench_tiles", "bench-tiles-password"
# Distinct tiles holding households, by Web Mercator arithmetic in the database.
TILES_SQL = """
SELECT DISTINCT floor((ST_X(geom) + 180) / 360 * 2 ^ :z)::int AS x,
       floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 2 ^ :z)::int AS y
FROM household ORDER BY 1, 2
"""
# The GeoJSON peer: the tile's features as one FeatureCollection built in PostGIS.
GEOJSON_SQL = """
SELECT json_build_object('type', 'FeatureCollection',
                         'features', coalesce(json_agg(ST_AsGeoJSON(f.*, 'geom', 6)::json), '[]'))::text,
       count(*)
FROM ({rows}) AS f
"""
BBOX = "ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
GEOJSON_BUILDINGS = f"""
SELECT a.building_id AS id, a.households, a.residents, ST_PointOnSurface(bl.geom) AS geom
FROM (SELECT h.building_id, count(*)::int AS households, sum(h.residents)::int AS residents
      FROM household h WHERE h.geom && {BBOX} AND h.building_id IS NOT NULL AND {{scope}}
      GROUP BY h.building_id) AS a
JOIN building bl ON bl.id = a.building_id
WHERE ST_PointOnSurface(bl.geom) && {BBOX}  -- as ST_AsMVTGeom drops points beyond the tile's buffer
UNION ALL
SELECT -h.id, 1, h.residents, h.geom FROM household h
WHERE h.geom && {BBOX} AND h.building_id IS NULL AND {{scope}}
"""
GEOJSON_POINTS = f"""
SELECT h.id, h.residents, g.code AS grid_code, h.geom
FROM household h LEFT JOIN grid g ON g.id = h.grid_id
WHERE h.geom && {BBOX} AND {{scope}}
"""


def gzipped_size(body: bytes) -> int:
    """Bytes on the wire: gzip level 6 from 1 KB, as the API sends tiles."""
    return len(gzip.compress(body, compresslevel=6, mtime=0)) if len(body) >= GZIP_MIN_BYTES else len(body)


def render_mvt(
    session: Session, principal: Principal, z: int, x: int, y: int, plan_id: int
) -> tuple[int, int]:
    """Our tile: the API's SQL, then gzip; (bytes sent, features)."""
    request = TileRequest("households", TileAddress(z, x, y), principal)
    tile = compressed(render_tile(session, request, [plan_id]))
    return len(tile.gzipped if tile.gzipped is not None else tile.body), tile.features


def render_geojson(session: Session, principal: Principal, z: int, x: int, y: int) -> tuple[int, int]:
    """The peer: the same features as a FeatureCollection from one SQL, then gzip; (bytes, features)."""
    scope_sql, params = scope_clause(principal)  # the caller's area, as the tile SQL restricts it
    rows = GEOJSON_POINTS if z >= HOUSEHOLD_POINTS_MIN_ZOOM else GEOJSON_BUILDINGS
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))  # as the tile SQL does
    body, features = session.execute(
        text(GEOJSON_SQL.format(rows=rows.format(scope=scope_sql))),
        {**TileAddress(z, x, y).bounds(), **params},
    ).one()
    return gzipped_size(body.encode()), int(features)


def median_of(runs: int, action: Callable[[], tuple[int, int]]) -> tuple[float, int, int]:
    """(median ms over `runs`, bytes, features) of an action, each run in its own transaction."""
    times, result = [], (0, 0)
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), *result


def compare_in_process(url: str, principal: Principal, tiles: dict[int, list[tuple[int, int]]]) -> list[dict]:
    """Ours and GeoJSON on every tile, median of 3 each, the side that goes first alternating."""
    engine = create_engine(url)
    plan_id = active_plan(engine, principal.scope_code)
    rows = []
    with Session(engine) as session:
        for z, addresses in tiles.items():
            mvt, geo = [], []
            for n, (x, y) in enumerate(addresses):

                def ours(x: int = x, y: int = y, z: int = z) -> tuple[int, int]:
                    with session.begin():
                        return render_mvt(session, principal, z, x, y, plan_id)

                def peer(x: int = x, y: int = y, z: int = z) -> tuple[int, int]:
                    with session.begin():
                        return render_geojson(session, principal, z, x, y)

                pair = (ours, peer) if n % 2 == 0 else (peer, ours)
                first, second = (median_of(REPEATS, side) for side in pair)
                a, b = (first, second) if n % 2 == 0 else (second, first)
                if abs(a[2] - b[2]) > max(1, a[2] // 100):
                    raise SystemExit(f"tile {z}/{x}/{y}: {a[2]} features in the MVT, {b[2]} in the GeoJSON")
                mvt.append(a)
                geo.append(b)
            log(f"z{z}: {len(addresses)} tiles rendered both ways")
            rows.append({"z": z, "tiles": len(addresses), "mvt": mvt, "geojson": geo})
    engine.dispose()
    return rows


def tile_bbox(z: int, x: int, y: int) -> str:
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return f"{x / n * 360 - 180:.6f},{lat(y + 1):.6f},{(x + 1) / n * 360 - 180:.6f},{lat(y):.6f}"


def timed_get(client: httpx.Client, url: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, **kwargs)
    return (time.perf_counter() - started) * 1000, response


def households_pages(client: httpx.Client, bbox: str) -> tuple[float, int, int]:
    """Naive: (ms, households, bytes) for every page of GET /households in the bbox."""
    started = time.perf_counter()
    url: str | None = f"/households?bbox={bbox}&limit=5000"
    households = size = 0
    while url:
        response = client.get(url)
        response.raise_for_status()
        page = response.json()
        households += page["count"]
        size += int(response.headers.get("content-length", len(response.content)))
        url = httpx.URL(page["next"]).raw_path.decode() if page["next"] else None
    return (time.perf_counter() - started) * 1000, households, size


def measure_http(client: httpx.Client, z: int, addresses: list[tuple[int, int]], naive_tiles: int) -> dict:
    """Cold, warm and 304 over HTTP on every tile; the naive /households paging on a subset."""
    cold, warm, revalidate = [], [], []
    for x, y in addresses:
        path = f"/tiles/households/{z}/{x}/{y}.mvt"
        ms, response = timed_get(client, path)
        response.raise_for_status()
        cold.append(ms)
        warm.append(timed_get(client, path)[0])
        ms, unchanged = timed_get(client, path, headers={"If-None-Match": response.headers["etag"]})
        assert unchanged.status_code == 304, unchanged.status_code
        revalidate.append(ms)
    pick = sorted(
        set(np.linspace(0, len(addresses) - 1, min(naive_tiles, len(addresses))).round().astype(int))
    )
    naive = [households_pages(client, tile_bbox(z, *addresses[i])) for i in pick]
    log(f"z{z}: HTTP cold/warm/304 on {len(addresses)} tiles, naive paging on {len(naive)}")
    naive_ms, naive_kb = [ms for ms, _, _ in naive], [size / 1024 for _, _, size in naive]
    return {"cold": cold, "warm": warm, "revalidate": revalidate, "naive_ms": naive_ms, "naive_kb": naive_kb}


def zoom_figures(row: dict, http: dict) -> dict[str, Any]:
    mvt_ms = [ms for ms, _, _ in row["mvt"]]
    geo_ms = [ms for ms, _, _ in row["geojson"]]
    return {
        "z": row["z"],
        "tiles": row["tiles"],
        "features_mean": round(float(np.mean([f for _, _, f in row["mvt"]])), 1),
        "mvt_p50_ms": round(pct(mvt_ms, 50), 2),
        "mvt_p95_ms": round(pct(mvt_ms, 95), 2),
        "mvt_kb_mean": round(float(np.mean([b for _, b, _ in row["mvt"]])) / 1024, 2),
        "geojson_p50_ms": round(pct(geo_ms, 50), 2),
        "geojson_p95_ms": round(pct(geo_ms, 95), 2),
        "geojson_kb_mean": round(float(np.mean([b for _, b, _ in row["geojson"]])) / 1024, 2),
        "http_cold_p50_ms": round(pct(http["cold"], 50), 2),
        "http_cold_p95_ms": round(pct(http["cold"], 95), 2),
        "http_warm_p95_ms": round(pct(http["warm"], 95), 2),
        "http_304_p95_ms": round(pct(http["revalidate"], 95), 2),
        "naive_households_p50_ms": round(pct(http["naive_ms"], 50), 1),
        "naive_households_kb_mean": round(float(np.mean(http["naive_kb"])), 1) if http["naive_kb"] else None,
    }


def print_table(zooms: list[dict], machine: Machine) -> None:
    print(f"\n{machine.header()}")
    print("same tiles, same features, SQL -> gzip bytes in one process, median of 3 per tile:")
    head = (
        f"{'zoom':>4} {'tiles':>6} {'features':>9} {'MVT p50':>8} {'MVT p95':>8} {'MVT KB':>7} "
        f"{'GeoJSON p50':>12} {'GeoJSON p95':>12} {'GeoJSON KB':>11}"
    )
    print(head + "\n" + "-" * len(head))
    for z in zooms:
        print(
            f"{z['z']:>4} {z['tiles']:>6} {z['features_mean']:>9.0f} {z['mvt_p50_ms']:>8.1f} "
            f"{z['mvt_p95_ms']:>8.1f} {z['mvt_kb_mean']:>7.1f} {z['geojson_p50_ms']:>12.1f} "
            f"{z['geojson_p95_ms']:>12.1f} {z['geojson_kb_mean']:>11.1f}"
        )
    print("\nover HTTP (ms): tile cold / warm / 304, and naive /households?bbox paging (every household):")
    head = (
        f"{'zoom':>4} {'cold p50':>9} {'cold p95':>9} {'warm p95':>9} {'304 p95':>8} "
        f"{'naive p50':>10} {'naive KB':>9}"
    )
    print(head + "\n" + "-" * len(head))
    for z in zooms:
        print(
            f"{z['z']:>4} {z['http_cold_p50_ms']:>9.1f} {z['http_cold_p95_ms']:>9.1f} "
            f"{z['http_warm_p95_ms']:>9.1f} {z['http_304_p95_ms']:>8.1f} "
            f"{z['naive_households_p50_ms']:>10.1f} {z['naive_households_kb_mean'] or 0:>9.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--naive-tiles", type=int, default=30, help="tiles per zoom for the naive paging rows"
    )
    parser.add_argument("--quick", action="store_true", help="20 tiles per zoom (development only)")
    args = parser.parse_args()
    machine = Machine()
    url = demo_copy(DATABASE)
    engine = create_engine(url)
    district = district_code(engine)
    add_account(engine, USERNAME, PASSWORD, "admin", district)
    with engine.connect() as connection:
        tiles = {
            z: [(int(x), int(y)) for x, y in connection.execute(text(TILES_SQL), {"z": z})] for z in ZOOMS
        }
        user_id = int(connection.scalar(text("SELECT id FROM app_user WHERE username = :u"), {"u": USERNAME}))
    engine.dispose()
    if args.quick:
        tiles = {z: addresses[:: max(1, len(addresses) // 20)][:20] for z, addresses in tiles.items()}
    principal = Principal(user_id, USERNAME, Role.ADMIN, district)
    api, base_url = None, ""
    try:
        rows = compare_in_process(url, principal, tiles)
        api, base_url = start_api(url)
        log(f"API up on {base_url}")
        with httpx.Client(base_url=base_url, timeout=120, headers={"Accept-Encoding": "gzip"}) as client:
            token = client.post("/auth/token", data={"username": USERNAME, "password": PASSWORD})
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            http = [measure_http(client, z, tiles[z], args.naive_tiles) for z in ZOOMS]
    finally:
        if api is not None:
            os.killpg(api.pid, signal.SIGTERM)
            api.wait(timeout=30)
        drop(DATABASE)
    zooms = [zoom_figures(row, h) for row, h in zip(rows, http, strict=True)]
    print_table(zooms, machine)
    cold = [ms for h in http for ms in h["cold"]]
    mvt = [ms for row in rows for ms, _, _ in row["mvt"]]
    geo = [ms for row in rows for ms, _, _ in row["geojson"]]
    figures = {
        "tiles": len(cold),
        "render_p50_ms": round(pct(mvt, 50), 2),
        "render_p95_ms": round(pct(mvt, 95), 2),
        "geojson_p50_ms": round(pct(geo, 50), 2),
        "geojson_p95_ms": round(pct(geo, 95), 2),
        "p50_ms": round(pct(cold, 50), 2),
        "p95_ms": round(pct(cold, 95), 2),
        "warm_p95_ms": round(pct([ms for h in http for ms in h["warm"]], 95), 2),
        "not_modified_p95_ms": round(pct([ms for h in http for ms in h["revalidate"]], 95), 2),
        "zooms": zooms,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": pct(cold, 95) <= TARGET_P95_MS,
        **machine.figures(),
    }
    print(
        f"\nheadline: MVT {figures['render_p95_ms']} ms p95 vs GeoJSON {figures['geojson_p95_ms']} ms p95 "
        f"(same features, SQL to gzip); over HTTP cold p95 {figures['p95_ms']} ms "
        f"(target <= {TARGET_P95_MS:.0f})"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

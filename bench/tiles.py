"""Benchmark: household vector tiles (z14-z16) against the same households as GeoJSON.

Starts the embedded PostGIS cluster and the API (uvicorn, one process, loopback) itself against the
default database, loading the Wuchang demo first when it is absent. For every z14-z16 tile that
holds households it requests, as the district admin:
  - GET /tiles/households/{z}/{x}/{y}.mvt   cold (first request of the tile: rendered by PostGIS),
  - the same tile again                     warm (from the API's memory) and with If-None-Match (304),
  - GET /households?bbox=<tile bbox>&limit=5000, following `next` until the bbox is complete.
Tiles at z14-15 hold one point per building (with counts), from z16 one per household; GeoJSON
always returns every household. Prints a table and, as the last line, a JSON object.
Target: household tiles p95 <= 50 ms (cold).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.api_process import start_api
from gis_api.config import get_settings
from gis_api.db.session import default_engine

TARGET_P95_MS = 50.0
ZOOMS = (14, 15, 16)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Distinct tiles holding households, by Web Mercator arithmetic in the database.
TILES_SQL = """
SELECT DISTINCT floor((ST_X(geom) + 180) / 360 * 2 ^ :z)::int AS x,
       floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 2 ^ :z)::int AS y
FROM household ORDER BY 1, 2
"""


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def ensure_demo(engine: Engine) -> None:
    """Load the demo (as `wangge demo --no-serve` does) unless households and demo users exist."""
    users_file = get_settings().var_dir / "demo_users.txt"
    with engine.connect() as connection:
        has_households = connection.execute(
            text("SELECT to_regclass('household') IS NOT NULL AND EXISTS (SELECT 1 FROM household)")
        ).scalar()
    if has_households and users_file.exists():
        return
    log("demo not loaded: running `wangge demo --no-serve` (about half a minute)")
    subprocess.run([sys.executable, "-m", "gis_api.cli", "demo", "--no-serve"], check=True, cwd=PROJECT_ROOT)


def demo_password(username: str) -> str:
    path = get_settings().var_dir / "demo_users.txt"
    pairs = dict(line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)
    return pairs[username]


def tile_bbox(z: int, x: int, y: int) -> str:
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return f"{x / n * 360 - 180:.6f},{lat(y + 1):.6f},{(x + 1) / n * 360 - 180:.6f},{lat(y):.6f}"


def timed_get(client: httpx.Client, url: str, **kwargs: object) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    return (time.perf_counter() - started) * 1000, response


def geojson_bbox(client: httpx.Client, bbox: str) -> tuple[float, int, int]:
    """(ms, households, bytes) for every page of GET /households in the bbox."""
    started = time.perf_counter()
    url: str | None = f"/households?bbox={bbox}&limit=5000"
    households = size = 0
    while url:
        response = client.get(url)
        response.raise_for_status()
        page = response.json()
        households += page["count"]
        size += len(response.content)
        url = httpx.URL(page["next"]).raw_path.decode() if page["next"] else None
    return (time.perf_counter() - started) * 1000, households, size


def measure_zoom(client: httpx.Client, z: int, tiles: list[tuple[int, int]], geojson_tiles: int) -> dict:
    cold, warm, revalidate, sizes, features = [], [], [], [], 0
    for x, y in tiles:
        ms, response = timed_get(client, f"/tiles/households/{z}/{x}/{y}.mvt")
        response.raise_for_status()
        cold.append(ms)
        sizes.append(len(response.content))
        warm.append(timed_get(client, f"/tiles/households/{z}/{x}/{y}.mvt")[0])
        ms, not_modified = timed_get(
            client, f"/tiles/households/{z}/{x}/{y}.mvt", headers={"If-None-Match": response.headers["etag"]}
        )
        assert not_modified.status_code == 304, not_modified.status_code
        revalidate.append(ms)
    # the GeoJSON peer on an evenly spaced subset (it is slow); same tiles, same bboxes
    pick = np.linspace(0, len(tiles) - 1, min(geojson_tiles, len(tiles))).round().astype(int)
    geo = [geojson_bbox(client, tile_bbox(z, *tiles[i])) for i in sorted(set(pick))]
    features = sum(households for _, households, _ in geo)
    log(f"z{z}: {len(tiles)} tiles, GeoJSON on {len(geo)} of them ({features:,} households)")
    return {
        "z": z,
        "tiles": len(tiles),
        "cold": cold,
        "warm": warm,
        "revalidate": revalidate,
        "kb": float(np.mean(sizes)) / 1024,
        "geojson": [ms for ms, _, _ in geo],
        "geojson_kb": float(np.mean([size for _, _, size in geo])) / 1024,
    }


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'zoom':>4} {'tiles':>6} {'mvt p50':>8} {'mvt p95':>8} {'warm p95':>9} {'304 p95':>8} "
        f"{'mvt KB':>7} {'geojson p50':>12} {'geojson p95':>12} {'geojson KB':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['z']:>4} {r['tiles']:>6} {pct(r['cold'], 50):>8.1f} {pct(r['cold'], 95):>8.1f} "
            f"{pct(r['warm'], 95):>9.1f} {pct(r['revalidate'], 95):>8.1f} {r['kb']:>7.1f} "
            f"{pct(r['geojson'], 50):>12.1f} {pct(r['geojson'], 95):>12.1f} {r['geojson_kb']:>11.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--geojson-tiles", type=int, default=60, help="tiles per zoom for the GeoJSON peer")
    parser.add_argument("--user", default="admin", help="demo account to request as (admin, street, ...)")
    args = parser.parse_args()
    engine = default_engine()
    ensure_demo(engine)
    with engine.connect() as connection:
        tiles = {z: [tuple(row) for row in connection.execute(text(TILES_SQL), {"z": z})] for z in ZOOMS}
    api, base_url = start_api()
    log(f"API up on {base_url}")
    try:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            token = client.post(
                "/auth/token", data={"username": args.user, "password": demo_password(args.user)}
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            rows = [measure_zoom(client, z, tiles[z], args.geojson_tiles) for z in ZOOMS]
    finally:
        api.terminate()
        api.wait(timeout=10)
    print_table(rows)
    cold = [ms for r in rows for ms in r["cold"]]
    geo = [ms for r in rows for ms in r["geojson"]]
    figures = {
        "user": args.user,
        "tiles": len(cold),
        "p50_ms": round(pct(cold, 50), 2),
        "p95_ms": round(pct(cold, 95), 2),
        "warm_p95_ms": round(pct([ms for r in rows for ms in r["warm"]], 95), 2),
        "not_modified_p95_ms": round(pct([ms for r in rows for ms in r["revalidate"]], 95), 2),
        "geojson_p50_ms": round(pct(geo, 50), 2),
        "geojson_p95_ms": round(pct(geo, 95), 2),
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": pct(cold, 95) <= TARGET_P95_MS,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

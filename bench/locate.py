"""Benchmark: point -> grid lookups per second, three ways side by side.

1. one SQL query per point (ST_Intersects on the GiST index),
2. one batched SQL query (unnest the coordinate arrays, join to the grids),
3. the in-memory index the API keeps (shapely STRtree + prepared polygons, vectorised).

Starts the embedded PostGIS cluster itself and uses a throwaway database holding the Wuchang demo
(gis_api.demo) or, when the demo cannot be loaded, a synthetic set of ~1,300 Voronoi grid cells over
the district outline (the output says which). The three methods must agree on every point.
Prints a table and, as the last line, a JSON object. Target: memory_per_s >= 20,000.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import shapely
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.locate.areas import GridArea
from gis_api.locate.index import NO_GRID, GridIndex, LocateIndexCache
from gis_api.locate.sql_lookup import locate_batch_sql, locate_point_sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.district_rows import add_bench_district, create_plan

T = TypeVar("T")
DATABASE = "wangge_bench_locate"
TARGET_MEMORY_PER_S = 20_000
DISTRICT_OUTLINE = "wuchang_admin_osm/wuchang_district_osm_r3076297_2023-04-15.geojson"
FALLBACK_BBOX = (114.259, 30.498, 114.426, 30.629)  # Wuchang, from the OSM outline


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def load_demo_grids(engine: Engine, seed: int) -> str:
    """Load the full demo; raises whatever the demo loader raises when it is not ready."""
    from gis_api.demo.load import load_demo

    summary = load_demo(engine, seed=seed, reload=True, progress=log)
    return f"Wuchang demo ({summary.counts['grid']:,} grids)"


def district_outline() -> shapely.Geometry:
    """The real OSM outline when the shared data is present, else the district's bounding box."""
    for root in (get_settings().data_dir, Path(__file__).resolve().parents[2] / "shared" / "data"):
        path = root / DISTRICT_OUTLINE
        if path.is_file():
            geometry = json.loads(path.read_text())["features"][0]["geometry"]
            return shapely.make_valid(shapely.geometry.shape(geometry))
    return shapely.box(*FALLBACK_BBOX)


def synthetic_cells(
    outline: shapely.Geometry, count: int, rng: np.random.Generator
) -> list[shapely.Geometry]:
    """~count Voronoi cells clipped to the outline: irregular polygons like real grids."""
    min_x, min_y, max_x, max_y = outline.bounds
    seeds = shapely.points(rng.uniform(min_x, max_x, count * 5), rng.uniform(min_y, max_y, count * 5))
    seeds = seeds[shapely.contains(outline, seeds)][:count]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline))
    clipped = [shapely.make_valid(shapely.intersection(cell, outline)) for cell in cells]
    return [cell for cell in clipped if not cell.is_empty and cell.area > 0]


def insert_synthetic(engine: Engine, cells: list[shapely.Geometry]) -> str:
    """District, 14 streets (longitude bands), ~180 communities and the cells as grids."""
    order = np.argsort([cell.centroid.x for cell in cells])
    streets = np.array_split(order, 14)
    with engine.begin() as connection:
        outline = shapely.union_all(cells)
        add_bench_district(connection, outline.wkt)
        plan = create_plan(connection, "synthetic")
        for s, members in enumerate(streets, start=1):
            insert_street(connection, plan, f"420106{s:03d}", [cells[i] for i in members])
    return f"synthetic Voronoi grids ({len(cells):,} cells)"


def insert_street(connection: Connection, plan: int, code: str, cells: list[shapely.Geometry]) -> None:
    run = connection.execute
    multi = "ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromText(:g, 4326)), 3))"
    run(
        text(f"INSERT INTO street VALUES (:c, :n, '420106', {multi})"),
        {"c": code, "n": f"街道{code[-3:]}", "g": shapely.union_all(cells).wkt},
    )
    for k, chunk in enumerate(np.array_split(np.arange(len(cells)), 13), start=1):
        community = f"{code}{k:03d}"
        members = [cells[i] for i in chunk]
        community_id = run(
            text(
                f"INSERT INTO community (plan_id, code, name, street_code, geom) "
                f"VALUES (:p, :c, :n, :s, {multi}) RETURNING id"
            ),
            {
                "p": plan,
                "c": community,
                "n": f"社区{community[-3:]}",
                "s": code,
                "g": shapely.union_all(members).wkt,
            },
        ).scalar_one()
        for seq, cell in enumerate(members, start=1):
            run(
                text(
                    f"INSERT INTO grid (plan_id, code, name, community_id, geom) "
                    f"VALUES (:p, :c, :n, :ci, {multi})"
                ),
                {
                    "p": plan,
                    "c": f"{community}{seq:02d}",
                    "n": f"第{seq:02d}网格",
                    "ci": community_id,
                    "g": cell.wkt,
                },
            )


def prepare_database(engine: Engine, source: str, seed: int) -> str:
    """Fill the throwaway database; returns a description of the grids used."""
    if source in ("auto", "demo"):
        try:
            return load_demo_grids(engine, seed)
        except Exception as error:  # any failure means the demo is not ready: say so
            if source == "demo":
                raise
            log(f"demo not available ({type(error).__name__}: {error}); using synthetic grids")
            engine.dispose()
    cells = synthetic_cells(district_outline(), 1300, np.random.default_rng(seed))
    return insert_synthetic(engine, cells)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def sample_points(index: GridIndex, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random points: 90 % inside the district, 10 % anywhere in its bounding box (misses happen)."""
    min_x, min_y, max_x, max_y = shapely.total_bounds(index.polygons)
    outside_n = count // 10
    lons, lats = np.empty(0), np.empty(0)
    while len(lons) < count - outside_n:
        x, y = rng.uniform(min_x, max_x, count), rng.uniform(min_y, max_y, count)
        keep = np.array([district is not None for district in index.districts_at(x, y)])
        lons, lats = np.concatenate([lons, x[keep]]), np.concatenate([lats, y[keep]])
    lons = np.concatenate([lons[: count - outside_n], rng.uniform(min_x, max_x, outside_n)])
    lats = np.concatenate([lats[: count - outside_n], rng.uniform(min_y, max_y, outside_n)])
    order = rng.permutation(count)
    return lons[order], lats[order]


def grid_codes(areas: list[GridArea | None]) -> list[str | None]:
    return [area.grid_code if area is not None else None for area in areas]


def run_benchmark(engine: Engine, points: int, sql_points: int, seed: int) -> dict[str, float | int]:
    """Time the three methods on the same random points and count any disagreement."""
    with Session(engine) as session:
        index, build_s = timed(lambda: LocateIndexCache().current(session))
        assert index is not None, "no active plan in the benchmark database"
        lons, lats = sample_points(index, points, np.random.default_rng(seed))
        runs = [timed(lambda: index.lookup(lons, lats)) for _ in range(3)]
        positions, memory_s = min(runs, key=lambda run: run[1])
        memory = grid_codes([index.areas[p] if p != NO_GRID else None for p in positions.tolist()])
        single_n = min(points, 5000)
        _, single_s = timed(lambda: [index.lookup(lons[i : i + 1], lats[i : i + 1]) for i in range(single_n)])
        batch, batch_s = timed(lambda: locate_batch_sql(session, lons.tolist(), lats.tolist()))
        one_by_one, sql_s = timed(
            lambda: [locate_point_sql(session, lons[i], lats[i]) for i in range(sql_points)]
        )
    mismatches = sum(a != b for a, b in zip(memory, grid_codes(batch), strict=True))
    mismatches += sum(a != b for a, b in zip(memory[:sql_points], grid_codes(one_by_one), strict=True))
    return {
        "grids": len(index.areas),
        "points": points,
        "located": sum(code is not None for code in memory),
        "index_build_s": round(build_s, 3),
        "mismatches": mismatches,
        "sql_per_s": round(rate(sql_points, sql_s)),
        "sql_batch_per_s": round(rate(points, batch_s)),
        "memory_per_s": round(rate(points, memory_s)),
        "memory_single_call_per_s": round(rate(single_n, single_s)),
    }


def print_table(figures: dict[str, float | int], sql_points: int, source: str) -> None:
    print(f"\ngrids: {source}; {figures['points']:,} random points, {figures['located']:,} inside a grid")
    print(
        f"index build: {figures['index_build_s']} s; disagreements between methods: {figures['mismatches']}"
    )
    print(f"\n{'method':<44}{'points':>10}{'lookups/s':>14}")
    rows = [
        ("SQL, one query per point", sql_points, figures["sql_per_s"]),
        ("SQL, one batched query (unnest + join)", figures["points"], figures["sql_batch_per_s"]),
        ("memory STRtree, vectorised", figures["points"], figures["memory_per_s"]),
        (
            "memory STRtree, one call per point",
            min(5000, int(figures["points"])),
            figures["memory_single_call_per_s"],
        ),
    ]
    for name, count, per_s in rows:
        print(f"{name:<44}{count:>10,}{per_s:>14,}")
    met = "met" if figures["memory_per_s"] >= TARGET_MEMORY_PER_S else "MISSED"
    print(f"target memory >= {TARGET_MEMORY_PER_S:,}/s: {met}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("auto", "demo", "synthetic"), default="auto")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--sql-points", type=int, default=2_000)
    args = parser.parse_args()
    settings = get_settings()
    cluster = EmbeddedCluster(settings.var_dir)
    cluster.ensure_running()
    cluster.drop_database(DATABASE)
    engine = create_engine(cluster.create_database(DATABASE))
    try:
        migrate.upgrade(engine)
        source = prepare_database(engine, args.source, settings.demo_seed)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        log(f"measuring on {source}")
        figures = run_benchmark(engine, args.points, args.sql_points, settings.demo_seed)
    finally:
        engine.dispose()
        cluster.drop_database(DATABASE)
    print_table(figures, args.sql_points, source)
    print(json.dumps({**figures, "source": source}))
    return 0 if figures["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

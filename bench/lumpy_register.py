"""Benchmark: a lumpy register (one point per compound, BD-09) redistricted end to end.

Real districts bring household registers geocoded to one point per residential compound (小区),
up to 24,000 households at one point. This benchmark builds such a register WITHOUT the demo's
generator: compound points are the centres of clusters of real OSM residential footprints
(data/wuchang/osm_buildings_wuchang.geojson, ODbL, © OpenStreetMap contributors; k-means on
footprint centres, per street), streets get households in proportion to their official community
counts (NBS 2023), compounds get heavy-tailed counts (six of 10,000-24,000 households, 278,208 in
all), and coordinates are written in BD-09. On a fresh database holding the Wuchang
demo's streets, roads and buildings, it replaces the demo's households with the register and then
runs, through the `wangge` command as a planner would:

    wangge load households REGISTER.csv --crs bd09
    wangge redistrict                       (target 3,000 / 300)
    wangge redistrict --official-codes data/wuchang/nbs2023_communities.csv
    wangge plan activate ID; wangge check

once with the building footprints loaded (a compound's households are spread over the residential
buildings around its point) and once after deleting every building (grids defined by
assignment). A naive row runs the same optimiser in-process without cutting compounds for
communities, as it worked before issue 12.

Prints a table and, last, a JSON line (the headline figures are the footprints + official-codes row).

    .venv/bin/python bench/lumpy_register.py [--quick] [--compounds 488] [--households 278208] [--seed 12]

--quick: 150 compounds and 60,000 households (the giants scaled down alike: the largest point
still holds 5,175, more than a community), only the target-3,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.cluster.vq import kmeans2
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from boundaries.errors import BoundariesError
from gis_api.areas.zones import read_zones
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.load import load_demo
from gis_api.districts.service import resolve_district
from gis_api.errors import DomainError
from gis_api.loaders.chinese_datums import from_wgs84
from gis_api.redistrict import service
from gis_api.redistrict.units import CutLimits

DATABASE = "wangge_bench_lumpy"
OSM_BUILDINGS = get_settings().data_dir / "osm_buildings_wuchang.geojson"
OFFICIAL = get_settings().data_dir / "nbs2023_communities.csv"
# OSM building=* values where people live (yes: untagged, mostly housing in Wuchang's old town).
RESIDENTIAL_TAGS = ("apartments", "residential", "dormitory", "house", "detached", "yes")
# The biggest compounds of the register: what issue 12's planner met (up to 24,000 at one point).
GIANTS = (24_000, 19_000, 15_500, 13_000, 11_000, 10_000)
HEADLINE = ("communities", "grids", "community_dev_max", "grid_share_within_10pct", "splits", "wall_s")
START = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:6.1f}s] {message}", file=sys.stderr, flush=True)


def fresh_database() -> tuple[Engine, str]:
    """A new bench database with the Wuchang demo loaded (streets, roads, buildings, old plan)."""
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE)
    engine = create_engine(url)
    migrate.upgrade(engine)
    load_demo(engine, seed=get_settings().demo_seed, progress=log)
    return engine, url


def street_shares(engine: Engine) -> gpd.GeoDataFrame:
    """Loaded streets (code, outline in the district's metric CRS) with their official community
    counts (NBS 2023, public)."""
    with engine.connect() as connection:
        district = resolve_district(connection, None)  # the bench database holds the demo district only
        streets = gpd.read_postgis(
            text("SELECT code, geom FROM street WHERE district_code = :d ORDER BY code"),
            connection, geom_col="geom", params={"d": district.code},
        )  # fmt: skip
    official = service.read_official(OFFICIAL).groupby("street_code").size()
    streets["communities"] = streets["code"].map(official).fillna(1).astype(int)
    return streets.to_crs(district.metric_crs)


def compound_points(streets: gpd.GeoDataFrame, count: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Per street, centres of clusters of real residential footprints (as many compounds as its share
    of the official communities), with each cluster's floor area."""
    footprints = gpd.read_file(OSM_BUILDINGS)
    footprints = footprints[footprints["building"].isin(RESIDENTIAL_TAGS)].to_crs(streets.crs)
    frames = []
    for street in streets.itertuples():
        inside = street.geom.buffer(-20.0)
        mine = footprints[footprints.centroid.within(inside)]
        wanted = max(1, round(count * street.communities / streets["communities"].sum()))
        frames.append(_clusters(mine, min(wanted, len(mine)), inside, rng).assign(street=street.code))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=streets.crs)


def _clusters(
    footprints: gpd.GeoDataFrame, count: int, inside: shapely.Geometry, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """k-means centres of the footprints' centres (the compounds' address points) and floor areas."""
    centres = np.c_[footprints.centroid.x, footprints.centroid.y]
    levels = pd.to_numeric(footprints["building_levels"], errors="coerce").fillna(6.0).clip(1, 60)
    means, label = kmeans2(centres, count, seed=rng, minit="++")
    floor = np.bincount(label, footprints.area.to_numpy() * levels.to_numpy(), minlength=count)
    points = gpd.GeoDataFrame({"floor_m2": floor}, geometry=gpd.points_from_xy(means[:, 0], means[:, 1]),
                              crs=footprints.crs)  # fmt: skip
    keep = points.within(inside) & (np.bincount(label, minlength=count) > 0)
    return points[keep].reset_index(drop=True)


def on_land(engine: Engine, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The compound points outside water and large parks (a k-means centre can fall into a lake,
    where `wangge load households` rightly refuses a household)."""
    with engine.connect() as connection:
        zones = read_zones(connection, resolve_district(connection, None).code)
    wet = points.within(zones.to_crs(points.crs).union_all()) if len(zones) else np.zeros(len(points), bool)
    log(f"{int(np.sum(wet))} compound point(s) in water or a park left out")
    return points[~np.asarray(wet)].reset_index(drop=True)


def household_counts(
    points: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    total: int,
    rng: np.random.Generator,
    giants: tuple[int, ...] = GIANTS,
) -> np.ndarray:
    """Households per compound: streets get the total in proportion to their official communities;
    the giants go to the largest streets (one each, on the cluster with most floor area) and the
    rest of a street is lognormal over its other compounds."""
    share = streets["communities"].to_numpy() / streets["communities"].sum()
    per_street = np.floor(share * total).astype(np.int64)
    per_street[np.argmax(per_street)] += total - per_street.sum()
    giant_of = dict(
        zip(streets["code"].to_numpy()[np.argsort(-per_street, kind="stable")], giants, strict=False)
    )
    counts = np.zeros(len(points), dtype=np.int64)
    for code, households in zip(streets["code"], per_street.tolist(), strict=True):
        members = np.flatnonzero(points["street"].to_numpy() == code)
        giant = giant_of.get(code, 0) if members.size > 1 else 0
        giant = giant if giant <= 0.8 * households else 0
        order = members[np.argsort(-points["floor_m2"].to_numpy()[members], kind="stable")]
        counts[order] = _street_counts(households, giant, order.size, rng)
    return counts


def _street_counts(households: int, giant: int, compounds: int, rng: np.random.Generator) -> np.ndarray:
    """One street's compound sizes, largest first: the giant (if any), then lognormal, at least 20."""
    others = compounds - (1 if giant else 0)
    rest = rng.lognormal(mean=0.0, sigma=1.0, size=others)
    rest = np.maximum(np.round(rest / rest.sum() * (households - giant)), 20).astype(np.int64)
    rest = np.sort(rest)[::-1]
    rest[0] += households - giant - rest.sum()  # exact street total
    return np.concatenate([[giant] if giant else [], rest]).astype(np.int64)


def write_register(
    points: gpd.GeoDataFrame, counts: np.ndarray, rng: np.random.Generator, path: Path
) -> None:
    """CSV id,lon,lat,residents in BD-09, every household of a compound at its compound's point."""
    wgs84 = points.to_crs("EPSG:4326")
    lon, lat = from_wgs84("bd09", wgs84.geometry.x.to_numpy(), wgs84.geometry.y.to_numpy())
    owner = np.repeat(np.arange(len(points)), counts)
    register = pd.DataFrame({
        "id": np.arange(1, owner.size + 1), "lon": np.round(lon[owner], 7), "lat": np.round(lat[owner], 7),
        "residents": rng.choice([1, 2, 3, 4, 5], size=owner.size, p=[0.25, 0.32, 0.23, 0.13, 0.07]),
    })  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    register.to_csv(path, index=False)


def wangge(url: str, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the `wangge` command on the bench database; (result, wall seconds)."""
    env = {**os.environ, "WANGGE_DATABASE_URL": url}
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gis_api.cli", *args], capture_output=True, text=True,
                            env=env, check=False)  # fmt: skip
    return result, time.perf_counter() - started


def redistrict_row(engine: Engine, url: str, name: str, *extra: str) -> dict[str, Any]:
    """`wangge redistrict` → the stored draft's figures (or the one-line error)."""
    log(f"{name}: wangge redistrict {' '.join(extra)}")
    result, wall = wangge(url, "redistrict", "--name", name, *extra)
    if result.returncode != 0:
        return {"name": name, "wall_s": round(wall, 1), "error": result.stderr.strip()}
    plan_id = int(re.search(r"draft plan (\d+):", result.stdout).group(1))  # type: ignore[union-attr]
    with engine.connect() as connection:
        metrics = connection.execute(
            text("SELECT metrics FROM plan WHERE id = :p"), {"p": plan_id}
        ).scalar_one()
    return {"name": name, "plan_id": plan_id, "wall_s": round(wall, 1), **figures(metrics)}


def figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The columns of the table from a plan's metrics."""
    community, grid = metrics["communities"], metrics["grids"]
    return {
        "communities": community["districts"], "grids": grid["districts"],
        "community_dev_max": round(community["dev_max"], 4),
        "community_share_within_5pct": round(community["share_within_5pct"], 4),
        "grid_share_within_10pct": round(grid["share_within_10pct"], 4),
        "grid_dev_max": round(grid["dev_max"], 4),
        "splits": metrics.get("community_splits", 0), "grid_splits": metrics.get("grid_splits", 0),
        "shared_points_spread": metrics.get("shared_points_spread", 0),
        "grids_by_assignment": metrics.get("grids_by_assignment", 0),
    }  # fmt: skip


def activate_and_check(url: str, row: dict[str, Any]) -> None:
    """`wangge plan activate` then `wangge check`: exit status and the information line into the row."""
    if "plan_id" not in row:
        return
    activated, _ = wangge(url, "plan", "activate", str(row["plan_id"]))
    checked, _ = wangge(url, "check")
    info = re.search(r"info grids defined by assignment[^:]*: (\d+)", checked.stdout)
    row["activated"] = activated.returncode == 0
    row["check_ok"] = checked.returncode == 0
    row["check_info_grids"] = int(info.group(1)) if info else 0
    if checked.returncode != 0:
        row["check_failures"] = [line.strip() for line in checked.stdout.splitlines() if "FAIL" in line]


def naive_row(engine: Engine) -> dict[str, Any]:
    """The optimiser without cutting compounds or buildings for communities (before issue 12), in-process."""
    log("naive: compounds never cut for communities")
    original = service.cut_limits

    def never_cut(inputs: Any, options: Any, counts: dict[str, int]) -> CutLimits:
        limits = original(inputs, options, counts)
        never = dict.fromkeys(limits.community_piece, 10**9)
        return CutLimits(never, never, limits.grid_piece, limits.grid_by_order)

    service.cut_limits = never_cut
    options = service.RedistrictOptions(official_codes=OFFICIAL, name="naive: no compound cut")
    name, started = "naive (no compound cut), official codes", time.perf_counter()
    try:
        report = service.redistrict(engine, options, progress=lambda message: None)
        return {"name": name, "wall_s": round(time.perf_counter() - started, 1), **figures(report.metrics)}
    except (BoundariesError, DomainError) as error:
        return {"name": name, "wall_s": round(time.perf_counter() - started, 1), "error": str(error)}
    finally:
        service.cut_limits = original


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = ("wall_s", "communities", "community_dev_max", "grids", "grid_share_within_10pct",
               "splits", "shared_points_spread", "grids_by_assignment", "check_ok")  # fmt: skip
    print(f"\n{'run':<44} " + " ".join(f"{c[:12]:>12}" for c in columns))
    for row in rows:
        if "error" in row:
            print(f"{row['name']:<44} {row['wall_s']:>12} error: {row['error']}")
            continue
        cells = [row.get(c, "") for c in columns]
        print(f"{row['name']:<44} " + " ".join(f"{c!s:>12}" for c in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compounds", type=int, default=None, help="488 (150 with --quick)")
    parser.add_argument("--households", type=int, default=None, help="278,208 (60,000 with --quick)")
    parser.add_argument("--seed", type=int, default=12)
    quick = "a smaller register (giants scaled down alike), target 3,000 rows only"
    parser.add_argument("--quick", action="store_true", help=quick)
    args = parser.parse_args()
    compounds = args.compounds or (150 if args.quick else 488)
    households = args.households or (60_000 if args.quick else 278_208)
    giants = tuple(round(g * households / 278_208) for g in GIANTS)
    rng = np.random.default_rng(args.seed)
    engine, url = fresh_database()
    streets = street_shares(engine)
    points = on_land(engine, compound_points(streets, compounds, rng))
    counts = household_counts(points, streets, households, rng, giants)
    register = get_settings().var_dir / "bench" / "lumpy_register_bd09.csv"
    write_register(points, counts, rng, register)
    log(f"register: {len(points)} compound points, {counts.sum():,} households, largest {counts.max():,}")
    with engine.begin() as connection:  # replace the demo's households with the register
        connection.execute(text("DELETE FROM plan WHERE status = 'draft'"))
        connection.execute(text("DELETE FROM household"))
    loaded, seconds = wangge(url, "load", "households", str(register), "--crs", "bd09")
    if loaded.returncode != 0:
        print(loaded.stdout, loaded.stderr, file=sys.stderr)
        return 1
    log(f"loaded in {seconds:.0f} s")
    rows = run_rows(engine, url, quick=args.quick)
    print_table(rows)
    headline = rows[0] if args.quick else rows[1]
    print(json.dumps({
        "compounds": len(points), "households": int(counts.sum()), "largest_compound": int(counts.max()),
        "quick": args.quick, **{k: headline.get(k) for k in HEADLINE},
        "rows": rows,
    }, ensure_ascii=False))  # fmt: skip
    return 0


def run_rows(engine: Engine, url: str, quick: bool) -> list[dict[str, Any]]:
    """With footprints, then without (every building deleted): target 3,000 and, unless quick, the
    official codes and the naive row; each last row of a pair is activated and checked."""
    official = ("--official-codes", str(OFFICIAL))
    rows = [redistrict_row(engine, url, "footprints, target 3,000")]
    if not quick:
        rows += [redistrict_row(engine, url, "footprints, official codes", *official), naive_row(engine)]
    activate_and_check(url, rows[0] if quick else rows[1])
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM building"))
    rows.append(redistrict_row(engine, url, "no footprints, target 3,000"))
    if not quick:
        rows.append(redistrict_row(engine, url, "no footprints, official codes", *official))
    activate_and_check(url, rows[-1])
    return rows


if __name__ == "__main__":
    sys.exit(main())

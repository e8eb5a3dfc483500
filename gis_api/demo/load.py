"""Store the generated Wuchang demo in PostGIS: areas, old plan, buildings, households, roads, teams.

Everything is written in one transaction so a failed load leaves the previous database untouched.
A reload replaces the demo district's rows only (gis_api.districts.removal): other districts
loaded beside it (the city, a real district) stay as they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from gis_api.config import get_settings
from gis_api.demo.households import door_labels
from gis_api.demo.sources import DISTRICT_CODE, METRIC_CRS
from gis_api.demo.teams import demo_team_members
from gis_api.districts.removal import check_ids_free, other_districts, remove_district_rows
from gis_api.districts.service import add_district, record_layer
from gis_api.loaders.bulk import copy_frame, hex_ewkb
from gis_api.loaders.validate import to_multipolygons
from gis_api.plans.service import update_household_counts

if TYPE_CHECKING:
    from gis_api.demo.generate import DemoDataset

log = logging.getLogger(__name__)
OLD_PLAN_NAME = "旧方案 (180 社区)"
ROAD_FILE = "whroad_wuchang_1km.shp"
ROAD_ATTRIBUTES_FILE = "osm_roads_l7_wuchang_1km.geojson"
CITY_NAME = "武汉市"
OSM = ("OpenStreetMap", "ODbL 1.0, © OpenStreetMap contributors")
DEMO_LAYERS: dict[str, tuple[bool, str, str]] = {
    "outline": (False, "OSM relation 3076297 (data/wuchang)", OSM[1]),
    "roads": (False, "WHroad (OSM-derived) + OSM ways (data/wuchang)", OSM[1]),
    "buildings": (True, "OSM footprints with estimated households, plus synthetic compounds", OSM[1]),
    "streets": (True, "synthetic, calibrated (gis_api.demo; data/README.md)", "CC0"),
    "communities": (True, "synthetic old plan of 180 communities (gis_api.demo)", "CC0"),
    "grids": (True, "synthetic old plan grids (gis_api.demo)", "CC0"),
    "households": (True, "synthetic, calibrated to the 2020 census (gis_api.demo)", "CC0"),
    "water": (True, "hand-drawn along OSM layers (data/wuchang/water_outlines.geojson)", "CC0"),
}
"""Which demo layers are real and which synthetic (data/README.md): the pages say "demo data"."""
DEMO_TABLES = (  # `wangge demo --city` replaces them all (the city includes the demo district)
    "data_layer",
    "incident",
    "team_member",
    "household",
    "building",
    "grid",
    "community",
    "plan",
    "water",
    "street",
    "road_edge",
    "road_node",
    "district",
)


@dataclass
class DemoSummary:
    """Row counts of the loaded demo and how long it took."""

    counts: dict[str, int]
    load_s: float
    loaded_now: bool

    def __str__(self) -> str:
        head = f"demo loaded in {self.load_s:.1f} s" if self.loaded_now else "demo already loaded"
        rows = "\n".join(f"  {table:<12} {count:>9,}" for table, count in self.counts.items())
        return f"{head}:\n{rows}"


def table_counts(connection: Connection) -> dict[str, int]:
    """Row counts of the demo's main tables."""
    tables = (
        "district",
        "street",
        "community",
        "grid",
        "building",
        "household",
        "road_edge",
        "team_member",
    )
    return {t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}


def load_demo(
    engine: Engine, seed: int, reload: bool = False, progress: Callable[[str], None] | None = None
) -> DemoSummary:
    """Generate the demo from the shipped inputs and store it, unless it is already there."""
    report = progress or (lambda message: log.info(message))
    if not reload:
        with engine.connect() as connection:
            counts = table_counts(connection)
        if counts["household"] > 0:
            with engine.begin() as connection:
                record_demo_layers(connection, only_if_unrecorded=True)
            return DemoSummary(counts, 0.0, loaded_now=False)
    from gis_api.demo.generate import generate_demo

    started = time.perf_counter()
    dataset = generate_demo(get_settings().data_dir, seed=seed, progress=report)
    with engine.begin() as connection:
        store_dataset(connection, dataset, np.random.default_rng(seed), report)
        counts = table_counts(connection)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return DemoSummary(counts, time.perf_counter() - started, loaded_now=True)


def store_dataset(
    connection: Connection,
    dataset: DemoDataset,
    rng: np.random.Generator,
    report: Callable[[str], None],
) -> None:
    """Replace the demo district's rows with the dataset, leaving every other district alone
    (caller owns the transaction: a failure anywhere removes nothing)."""
    others = other_districts(connection, DISTRICT_CODE)
    removed = remove_district_rows(connection, DISTRICT_CODE)
    if others:
        report(f"[demo] replacing {DISTRICT_CODE} only (removed {removed}); kept {', '.join(others)}")
    buildings, households = dataset.buildings["building_id"], dataset.households["household_id"]
    check_ids_free(connection, "building", int(buildings.min()), int(buildings.max()), DISTRICT_CODE)
    check_ids_free(connection, "household", int(households.min()), int(households.max()), DISTRICT_CODE)
    store_wuchang(connection, dataset, rng, report)


def store_wuchang(
    connection: Connection,
    dataset: DemoDataset,
    rng: np.random.Generator,
    report: Callable[[str], None],
) -> None:
    """Add the Wuchang district and everything of it to the database (ids as generated)."""
    from gis_api.roads.service import load_roads

    report("[demo] storing district, streets and water")
    store_areas(connection, dataset)
    plan_id = store_old_plan(connection, dataset)
    report(f"[demo] storing {len(dataset.buildings):,} buildings")
    copy_frame(connection, "building", building_frame(dataset.buildings))
    report(f"[demo] storing {len(dataset.households):,} households")
    grid_ids: dict[str, int] = dict(
        connection.execute(text("SELECT code, id FROM grid WHERE plan_id = :p"), {"p": plan_id}).all()
    )
    copy_frame(connection, "household", household_frame(dataset, grid_ids))
    update_household_counts(connection, plan_id)
    report("[demo] building the road network")
    data_dir = get_settings().data_dir
    roads = load_roads(
        connection,
        data_dir / ROAD_FILE,
        attributes_from=data_dir / ROAD_ATTRIBUTES_FILE,
        district=DISTRICT_CODE,
    )
    report(f"[demo] road network: {roads.edges:,} edges, {roads.km:.0f} km")
    members = demo_team_members(connection, plan_id, rng)
    report(f"[demo] {members:,} team members placed")
    record_demo_layers(connection)


def record_demo_layers(connection: Connection, only_if_unrecorded: bool = False) -> None:
    """Mark each demo layer real or synthetic (data/README.md says which); with only_if_unrecorded,
    a demo loaded before districts were data gets its records once (found by its old plan)."""
    if only_if_unrecorded:
        recorded = connection.execute(
            text("SELECT count(*) FROM data_layer WHERE district_code = :d"), {"d": DISTRICT_CODE}
        ).scalar_one()
        is_demo = connection.execute(
            text("SELECT 1 FROM plan WHERE name = :n AND district_code = :d"),
            {"n": OLD_PLAN_NAME, "d": DISTRICT_CODE},
        ).scalar()
        if recorded or not is_demo:
            return
    for layer, (synthetic, source, licence) in DEMO_LAYERS.items():
        record_layer(connection, DISTRICT_CODE, layer, synthetic=synthetic, source=source, licence=licence)


def multipolygon_ewkb(frame: gpd.GeoDataFrame) -> list[str]:
    """Hex EWKB of the frame's geometries as MultiPolygons (the area tables store only those)."""
    return list(hex_ewkb(to_multipolygons(frame.geometry)))


def store_areas(connection: Connection, dataset: DemoDataset) -> None:
    """City 4201 武汉市, the district (kept on EPSG:32650, the CRS the demo was made in, so its
    figures do not move), streets and water polygons."""
    district = dataset.district.iloc[0]
    outline = dataset.district.to_crs("EPSG:4326").geometry.iloc[0]
    add_district(
        connection, district["code"], district["name"], outline, metric_crs=METRIC_CRS, city_name=CITY_NAME
    )
    streets = [
        {"code": row.code, "name": row.name, "district": district["code"], "geom": geom}
        for row, geom in zip(dataset.streets.itertuples(), multipolygon_ewkb(dataset.streets), strict=True)
    ]
    connection.execute(text("INSERT INTO street VALUES (:code, :name, :district, :geom)"), streets)
    water = [
        {"name": row.name, "kind": row.kind, "geom": geom, "district": district["code"]}
        for row, geom in zip(dataset.water.itertuples(), multipolygon_ewkb(dataset.water), strict=True)
    ]
    connection.execute(
        text("INSERT INTO water (name, kind, geom, district_code) VALUES (:name, :kind, :geom, :district)"),
        water,
    )


def store_old_plan(connection: Connection, dataset: DemoDataset) -> int:
    """The 180-community starting plan, active; returns its id."""
    plan_id = connection.execute(
        text(
            "INSERT INTO plan (name, status, description, valid_from, district_code) "
            "VALUES (:n, 'active', :d, now(), :district) RETURNING id"
        ),
        {
            "n": OLD_PLAN_NAME,
            "d": "合成的调整前方案：180 个规模不均的社区及其网格（演示数据）",
            "district": dataset.district.iloc[0]["code"],
        },
    ).scalar_one()
    communities = [
        {"p": plan_id, "code": row.code, "name": row.name, "street": row.street_code, "geom": geom}
        for row, geom in zip(
            dataset.communities.itertuples(), multipolygon_ewkb(dataset.communities), strict=True
        )
    ]
    connection.execute(
        text(
            "INSERT INTO community (plan_id, code, name, street_code, geom) "
            "VALUES (:p, :code, :name, :street, :geom)"
        ),
        communities,
    )
    community_ids: dict[str, int] = dict(
        connection.execute(text("SELECT code, id FROM community WHERE plan_id = :p"), {"p": plan_id}).all()
    )
    grids = [
        {
            "p": plan_id,
            "code": row.code,
            "name": row.name,
            "c": community_ids[row.community_code],
            "geom": geom,
        }
        for row, geom in zip(dataset.grids.itertuples(), multipolygon_ewkb(dataset.grids), strict=True)
    ]
    connection.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, geom) VALUES (:p, :code, :name, :c, :geom)"
        ),
        grids,
    )
    return int(plan_id)


def building_frame(buildings: gpd.GeoDataFrame) -> pd.DataFrame:
    """Building rows for COPY; OSM buildings keep their way id, synthetic ones their demo id."""
    source_ids = [
        str(building_id) if pd.isna(way) else str(int(way))
        for building_id, way in zip(buildings["building_id"], buildings["osm_way_id"], strict=True)
    ]
    return pd.DataFrame(
        {
            "id": buildings["building_id"].to_numpy(),
            "source": buildings["source"].to_numpy(),
            "source_id": source_ids,
            "kind": buildings["kind"].to_numpy(),
            "levels": buildings["levels"].to_numpy(),
            "households": buildings["households"].to_numpy(),
            "geom": hex_ewkb(buildings.geometry),
            # OSM names of landmarks for the search box; synthetic buildings have none
            "name": buildings["name"].to_numpy() if "name" in buildings else None,
            "district_code": DISTRICT_CODE,
        }
    )


def household_frame(dataset: DemoDataset, grid_ids: dict[str, int]) -> pd.DataFrame:
    """Household rows for COPY, with the id of their old-plan grid."""
    frame = dataset.households
    grid_id = frame["grid_code"].map(grid_ids)
    if grid_id.isna().any():
        missing = frame.loc[grid_id.isna(), "grid_code"].unique()[:5]
        raise ValueError(f"households refer to unknown grid codes, e.g. {list(missing)}")
    points = gpd.GeoSeries(shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy()))
    levels = dataset.buildings.set_index("building_id")["levels"].astype(float)
    building_ids = frame["building_id"].to_numpy()
    return pd.DataFrame(
        {
            "id": frame["household_id"].to_numpy(),
            "building_id": frame["building_id"].to_numpy(),
            "residents": frame["residents"].to_numpy(),
            "grid_id": grid_id.astype(int).to_numpy(),
            "geom": hex_ewkb(points),
            "door_label": door_labels(building_ids, levels.reindex(building_ids).to_numpy()),
            "district_code": DISTRICT_CODE,
        }
    )

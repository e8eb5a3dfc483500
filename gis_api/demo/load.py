"""Store the generated Wuchang demo in PostGIS: areas, old plan, buildings, households, roads, teams.

Everything is written in one transaction so a failed load leaves the previous database untouched.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from gis_api.config import get_settings
from gis_api.demo.teams import demo_team_members
from gis_api.plans.service import update_household_counts

if TYPE_CHECKING:
    import geopandas as gpd

    from gis_api.demo.generate import DemoDataset

log = logging.getLogger(__name__)
OLD_PLAN_NAME = "旧方案 (180 社区)"
ROAD_FILE = "whroad_wuchang_1km.shp"
ROAD_ATTRIBUTES_FILE = "osm_roads_l7_wuchang_1km.geojson"
DEMO_TABLES = (
    "incident",
    "team_member",
    "household",
    "building",
    "grid",
    "community",
    "plan",
    "water",
    "street",
    "district",
    "road_edge",
    "road_node",
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
    with engine.connect() as connection:
        if not reload and table_counts(connection)["household"] > 0:
            return DemoSummary(table_counts(connection), 0.0, loaded_now=False)
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
    """Replace the demo tables' contents with the dataset (caller owns the transaction)."""
    from gis_api.roads.service import load_roads

    connection.execute(text(f"TRUNCATE {', '.join(DEMO_TABLES)} RESTART IDENTITY CASCADE"))
    report("[demo] storing district, streets and water")
    store_areas(connection, dataset)
    plan_id = store_old_plan(connection, dataset)
    report(f"[demo] storing {len(dataset.buildings):,} buildings")
    copy_rows(
        connection,
        "building (id, source, source_id, kind, levels, households, geom)",
        building_rows(dataset.buildings),
    )
    report(f"[demo] storing {len(dataset.households):,} households")
    grid_ids: dict[str, int] = dict(
        connection.execute(text("SELECT code, id FROM grid WHERE plan_id = :p"), {"p": plan_id}).all()
    )
    copy_rows(
        connection,
        "household (id, building_id, residents, grid_id, geom)",
        household_rows(dataset, grid_ids),
    )
    update_household_counts(connection, plan_id)
    report("[demo] building the road network")
    data_dir = get_settings().data_dir
    roads = load_roads(connection, data_dir / ROAD_FILE, attributes_from=data_dir / ROAD_ATTRIBUTES_FILE)
    report(f"[demo] road network: {roads.edges:,} edges, {roads.km:.0f} km")
    members = demo_team_members(connection, plan_id, rng)
    report(f"[demo] {members:,} team members placed")


def ewkb(geometries: Iterable[shapely.Geometry]) -> list[str]:
    """Hex EWKB with SRID 4326, full precision (rounding WKT can make valid polygons invalid)."""
    with_srid = shapely.set_srid(np.asarray(list(geometries)), 4326)
    return list(shapely.to_wkb(with_srid, hex=True, include_srid=True))


def multi(frame: gpd.GeoDataFrame) -> list[str]:
    """EWKB of the frame's geometries promoted to MultiPolygon."""
    geometries = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in frame.geometry]
    return ewkb(geometries)


def store_areas(connection: Connection, dataset: DemoDataset) -> None:
    """District, streets and water polygons."""
    district = dataset.district.iloc[0]
    connection.execute(
        text("INSERT INTO district (code, name, geom) VALUES (:code, :name, :geom)"),
        {"code": district["code"], "name": district["name"], "geom": multi(dataset.district)[0]},
    )
    streets = [
        {"code": row.code, "name": row.name, "district": district["code"], "geom": geom}
        for row, geom in zip(dataset.streets.itertuples(), multi(dataset.streets), strict=True)
    ]
    connection.execute(text("INSERT INTO street VALUES (:code, :name, :district, :geom)"), streets)
    water = [
        {"name": row.name, "kind": row.kind, "geom": geom}
        for row, geom in zip(dataset.water.itertuples(), multi(dataset.water), strict=True)
    ]
    connection.execute(text("INSERT INTO water (name, kind, geom) VALUES (:name, :kind, :geom)"), water)


def store_old_plan(connection: Connection, dataset: DemoDataset) -> int:
    """The 180-community starting plan, active; returns its id."""
    plan_id = connection.execute(
        text(
            "INSERT INTO plan (name, status, description, valid_from) VALUES (:n, 'active', :d, now()) "
            "RETURNING id"
        ),
        {"n": OLD_PLAN_NAME, "d": "合成的调整前方案：180 个规模不均的社区及其网格（演示数据）"},
    ).scalar_one()
    communities = [
        {"p": plan_id, "code": row.code, "name": row.name, "street": row.street_code, "geom": geom}
        for row, geom in zip(dataset.communities.itertuples(), multi(dataset.communities), strict=True)
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
        for row, geom in zip(dataset.grids.itertuples(), multi(dataset.grids), strict=True)
    ]
    connection.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, geom) VALUES (:p, :code, :name, :c, :geom)"
        ),
        grids,
    )
    return int(plan_id)


def building_rows(buildings: gpd.GeoDataFrame) -> Iterable[str]:
    """Tab-separated COPY rows of the buildings."""
    # OSM buildings keep their way id; synthetic ones are identified by their demo building id
    source_ids = [
        str(building_id) if pd.isna(way) else str(int(way))
        for building_id, way in zip(buildings["building_id"], buildings["osm_way_id"], strict=True)
    ]
    geoms = ewkb(buildings.geometry)
    for building_id, source, source_id, kind, levels, households, geom in zip(
        buildings["building_id"],
        buildings["source"],
        source_ids,
        buildings["kind"],
        buildings["levels"],
        buildings["households"],
        geoms,
        strict=True,
    ):
        yield f"{building_id}\t{source}\t{source_id}\t{kind}\t{levels}\t{households}\t{geom}\n"


def household_rows(dataset: DemoDataset, grid_ids: dict[str, int]) -> Iterable[str]:
    """Tab-separated COPY rows of the households, with the grid id of their old-plan grid."""
    frame = dataset.households
    grid_id = frame["grid_code"].map(grid_ids)
    if grid_id.isna().any():
        missing = frame.loc[grid_id.isna(), "grid_code"].unique()[:5]
        raise ValueError(f"households refer to unknown grid codes, e.g. {list(missing)}")
    for hid, bid, residents, gid, lon, lat in zip(
        frame["household_id"],
        frame["building_id"],
        frame["residents"],
        grid_id.astype(int),
        frame["lon"],
        frame["lat"],
        strict=True,
    ):
        yield f"{hid}\t{bid}\t{residents}\t{gid}\tSRID=4326;POINT({lon:.7f} {lat:.7f})\n"


def copy_rows(connection: Connection, target: str, rows: Iterable[str], chunk: int = 100_000) -> None:
    """COPY text rows into `target` on the connection's own transaction, in chunks."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    buffer = io.StringIO()
    for index, row in enumerate(rows, start=1):
        buffer.write(row)
        if index % chunk == 0:
            _flush(cursor, target, buffer)
            buffer = io.StringIO()
    _flush(cursor, target, buffer)


def _flush(cursor: object, target: str, buffer: io.StringIO) -> None:
    buffer.seek(0)
    cursor.copy_expert(f"COPY {target} FROM STDIN", buffer)  # type: ignore[attr-defined]

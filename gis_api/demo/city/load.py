"""`wangge demo --city`: generate Wuhan's 13 districts and store them in one database.

Wuchang is the Wuchang demo itself (gis_api.demo, stored first, its ids as in `wangge demo`);
the other districts are generated in parallel processes by gis_api.demo.city.district and stored
as they arrive, each with its own metric CRS, old plan (active), buildings, households, roads and
team. Households and buildings are COPYed with their indexes and foreign keys deferred
(gis_api.db.bulk_load). Everything is one transaction: the city appears whole or not at all.
With scale < 1 (small runs) Wuchang, too, comes from the general generator.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from gis_api.config import get_settings
from gis_api.db.bulk_load import indexes_deferred
from gis_api.demo.city.district import CityDistrict
from gis_api.demo.city.generate import calibrate, generate_districts
from gis_api.demo.city.sources import CITY_NAME, CitySources, DistrictSpec, load_city_sources
from gis_api.demo.load import DEMO_TABLES, record_demo_layers, store_wuchang, table_counts
from gis_api.demo.sources import DISTRICT_CODE, DemoDataError
from gis_api.demo.teams import COMMUNITY_TEAM, person_names
from gis_api.districts.service import add_district, record_layer
from gis_api.loaders.bulk import copy_frame, hex_ewkb
from gis_api.loaders.validate import to_multipolygons

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
OLD_PLAN_NAME = "旧方案 (合成)"
SYNTHETIC = "synthetic, calibrated (gis_api.demo.city; data/README.md)"
OSM_LICENCE = "ODbL 1.0, © OpenStreetMap contributors"
CITY_LAYERS: dict[str, tuple[bool, str, str]] = {
    "outline": (False, "OSM admin_level 6 relation, 2018 (data/wuhan)", OSM_LICENCE),
    "roads": (True, "WHroad main roads (OSM-derived) where present, synthetic links elsewhere", OSM_LICENCE),
    "buildings": (True, SYNTHETIC, "CC0"),
    "streets": (True, "synthetic streets with placeholder names (gis_api.demo.city)", "CC0"),
    "communities": (True, "synthetic old plan (gis_api.demo.city)", "CC0"),
    "grids": (True, "synthetic old plan grids (gis_api.demo.city)", "CC0"),
    "households": (True, "synthetic, calibrated to the 2020 census (gis_api.demo.city)", "CC0"),
}
BULK_TABLES = ("household", "building")
CITY_DISTRICTS = 13
LOADED_DISTRICTS_SQL = """
SELECT d.code FROM district d WHERE EXISTS (SELECT 1 FROM household h WHERE h.district_code = d.code)
ORDER BY d.code
"""


@dataclass
class CitySummary:
    """What was stored and how long it took."""

    counts: dict[str, int]
    load_s: float
    districts: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        rows = "\n".join(f"  {table:<12} {count:>10,}" for table, count in self.counts.items())
        return f"city of {len(self.districts)} districts loaded in {self.load_s:.1f} s:\n{rows}"


@dataclass
class NextIds:
    """The next free building and household ids (districts after the first continue from there)."""

    building: int = 1
    household: int = 1


def selected_specs(sources: CitySources, districts: list[str] | None) -> list[DistrictSpec]:
    """The districts asked for (all by default), in code order."""
    if not districts:
        return list(sources.districts)
    return [sources.district(code) for code in sorted(set(districts))]


def city_loaded(engine: Engine, districts: list[str] | None) -> bool:
    """True when the database holds households in every district asked for (all 13 by default)."""
    wanted = sorted(set(districts)) if districts else None
    with engine.connect() as connection:
        loaded = [str(code) for (code,) in connection.execute(text(LOADED_DISTRICTS_SQL))]
    return loaded == wanted if wanted else len(loaded) == CITY_DISTRICTS


def load_city(
    engine: Engine,
    seed: int,
    *,
    scale: float = 1.0,
    districts: list[str] | None = None,
    workers: int = 2,
    progress: Progress | None = None,
) -> CitySummary:
    """Generate and store the city (replacing whatever the demo tables held), then ANALYZE."""
    started = time.perf_counter()
    with engine.begin() as connection:
        summary = load_city_on(
            connection, seed, scale=scale, districts=districts, workers=workers, progress=progress
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    summary.load_s = time.perf_counter() - started
    return summary


def load_city_on(
    connection: Connection,
    seed: int,
    *,
    scale: float = 1.0,
    districts: list[str] | None = None,
    workers: int = 2,
    progress: Progress | None = None,
) -> CitySummary:
    """load_city in the caller's transaction (without the ANALYZE)."""
    say = progress or (lambda message: log.info(message))
    started = time.perf_counter()
    settings = get_settings()
    sources = load_city_sources(settings.city_data_dir, settings.data_dir, scale)
    specs = selected_specs(sources, districts)
    calibration = calibrate(sources, settings.data_dir)
    use_demo = scale == 1.0 and any(spec.code == DISTRICT_CODE for spec in specs)
    generated = [spec for spec in specs if not (use_demo and spec.code == DISTRICT_CODE)]
    say(f"[city] {len(specs)} districts, {sum(s.households for s in specs):,} households, seed {seed}")
    rng = np.random.default_rng(seed)
    connection.execute(text(f"TRUNCATE {', '.join(DEMO_TABLES)} RESTART IDENTITY CASCADE"))
    with indexes_deferred(connection, BULK_TABLES):
        next_ids = NextIds()
        if use_demo:
            next_ids = store_demo_wuchang(connection, seed, say)
        for district in generate_districts(sources, generated, calibration, seed, workers):
            store_district(connection, district, next_ids, sources.osm_roads_path, rng, say)
        say("[city] building the household and building indexes")
    return CitySummary(table_counts(connection), time.perf_counter() - started, [spec.code for spec in specs])


def store_demo_wuchang(connection: Connection, seed: int, say: Progress) -> NextIds:
    """The Wuchang demo, generated and stored as `wangge demo` does; returns the next free ids."""
    from gis_api.demo.generate import generate_demo

    dataset = generate_demo(get_settings().data_dir, seed=seed, progress=say)
    store_wuchang(connection, dataset, np.random.default_rng(seed), say)
    record_demo_layers(connection)
    return NextIds(
        building=int(dataset.buildings["building_id"].max()) + 1,
        household=int(dataset.households["household_id"].max()) + 1,
    )


def store_district(
    connection: Connection,
    district: CityDistrict,
    next_ids: NextIds,
    osm_roads: Path,
    rng: np.random.Generator,
    say: Progress,
) -> None:
    """One generated district: outline, streets, old plan, buildings, households, roads, team."""
    started = time.perf_counter()
    add_district(
        connection,
        district.code,
        district.name,
        district.outline,
        metric_crs=district.metric_crs,
        city_name=CITY_NAME,
        source="OSM admin_level 6 relation (data/wuhan)",
    )
    store_streets(connection, district)
    grid_ids = store_old_plan(connection, district)
    building_ids = district.buildings["building_id"].to_numpy() + next_ids.building - 1
    copy_frame(connection, "building", building_rows(district, building_ids))
    households = household_rows(district, next_ids, grid_ids)
    copy_frame(connection, "household", households)
    next_ids.building += len(district.buildings)
    next_ids.household += len(households)
    layers = dict(CITY_LAYERS)
    if not store_roads(connection, district, osm_roads):
        del layers["roads"]
    members = store_team(connection, district, households, grid_ids, rng)
    for layer, (synthetic, source, licence) in layers.items():
        record_layer(connection, district.code, layer, synthetic=synthetic, source=source, licence=licence)
    say(
        f"[city] stored {district.code} {district.name}: {len(households):,} households, "
        f"{len(district.grids):,} grids, {members:,} team members in {time.perf_counter() - started:.1f} s"
    )


def store_streets(connection: Connection, district: CityDistrict) -> None:
    rows = [
        {"code": code, "name": name, "district": district.code, "geom": geom}
        for code, name, geom in zip(
            district.streets["code"], district.streets["name"], multipolygons(district.streets), strict=True
        )
    ]
    connection.execute(text("INSERT INTO street VALUES (:code, :name, :district, :geom)"), rows)


def multipolygons(frame: gpd.GeoDataFrame) -> list[str]:
    return list(hex_ewkb(to_multipolygons(frame.geometry)))


def store_old_plan(connection: Connection, district: CityDistrict) -> dict[str, int]:
    """The district's old plan, active, with household counts; returns the grid ids by code."""
    plan_id = int(
        connection.execute(
            text(
                "INSERT INTO plan (name, status, description, valid_from, district_code) "
                "VALUES (:n, 'active', :d, now(), :district) RETURNING id"
            ),
            {"n": OLD_PLAN_NAME, "d": "合成的调整前方案（演示数据）", "district": district.code},
        ).scalar_one()
    )
    per_grid = district.households["grid_code"].value_counts()
    communities = district.communities
    grid_households = district.grids["code"].map(per_grid).fillna(0).astype(np.int64)
    community_households = grid_households.groupby(district.grids["community_code"].to_numpy()).sum()
    copy_frame(
        connection,
        "community",
        pd.DataFrame(
            {
                "plan_id": plan_id,
                "code": communities["code"].to_numpy(),
                "name": communities["name"].to_numpy(),
                "street_code": communities["street_code"].to_numpy(),
                "households": communities["code"].map(community_households).fillna(0).astype(np.int64),
                "geom": multipolygons(communities),
            }
        ),
    )
    community_ids = ids_by_code(connection, "community", plan_id)
    copy_frame(
        connection,
        "grid",
        pd.DataFrame(
            {
                "plan_id": plan_id,
                "code": district.grids["code"].to_numpy(),
                "name": district.grids["name"].to_numpy(),
                "community_id": district.grids["community_code"].map(community_ids).to_numpy(),
                "households": grid_households.to_numpy(),
                "geom": multipolygons(district.grids),
            }
        ),
    )
    return ids_by_code(connection, "grid", plan_id)


def ids_by_code(connection: Connection, table: str, plan_id: int) -> dict[str, int]:
    rows = connection.execute(text(f"SELECT code, id FROM {table} WHERE plan_id = :p"), {"p": plan_id})
    return {str(code): int(row_id) for code, row_id in rows}


def building_rows(district: CityDistrict, ids: np.ndarray) -> pd.DataFrame:
    buildings = district.buildings
    return pd.DataFrame(
        {
            "id": ids,
            "source": "synthetic",
            "source_id": [f"{district.code}-{n}" for n in buildings["building_id"]],
            "kind": buildings["kind"].to_numpy(),
            "levels": buildings["levels"].to_numpy(),
            "households": buildings["households"].to_numpy(),
            "geom": hex_ewkb(buildings.geometry),
            "district_code": district.code,
        }
    )


def household_rows(district: CityDistrict, next_ids: NextIds, grid_ids: dict[str, int]) -> pd.DataFrame:
    frame = district.households
    grid_id = frame["grid_code"].map(grid_ids)
    if grid_id.isna().any():
        raise DemoDataError(f"district {district.code}: households refer to unknown grids")
    points = gpd.GeoSeries(shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy()))
    return pd.DataFrame(
        {
            "id": frame["household_id"].to_numpy() + next_ids.household - 1,
            "building_id": frame["building_id"].to_numpy() + next_ids.building - 1,
            "residents": frame["residents"].to_numpy(),
            "grid_id": grid_id.astype(np.int64).to_numpy(),
            "geom": hex_ewkb(points),
            "district_code": district.code,
        }
    )


def store_roads(connection: Connection, district: CityDistrict, osm_roads: Path) -> bool:
    """The district's roads through the road loader (classes of the main roads from the OSM ways);
    False when it has none (a tiny district of one village: dispatch then goes by straight line)."""
    from gis_api.roads.service import load_roads

    if district.roads.empty:
        return False
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"roads_{district.code}.gpkg"
        district.roads[["road_class", "name", "geometry"]].to_file(path, driver="GPKG")
        load_roads(connection, path, attributes_from=osm_roads, district=district.code)
    return True


def store_team(
    connection: Connection,
    district: CityDistrict,
    households: pd.DataFrame,
    grid_ids: dict[str, int],
    rng: np.random.Generator,
) -> int:
    """A grid worker per grid and the community team in each community's first grid, each at a
    random household of their grid (as the Wuchang demo places its team)."""
    codes = sorted(grid_ids)
    picks: list[tuple[str, str]] = [(code, "grid_worker") for code in codes]
    first_of_community: dict[str, str] = {}
    for code in codes:
        first_of_community.setdefault(code[:12], code)
    for code in first_of_community.values():
        picks += [(code, role) for role, count in COMMUNITY_TEAM for _ in range(count)]
    by_grid = households.groupby(district.households["grid_code"].to_numpy()).indices
    rows = []
    names = person_names(rng, len(picks))
    for (code, role), name in zip(picks, names, strict=True):
        members = by_grid.get(code)
        if members is None:
            continue
        at = int(members[rng.integers(len(members))])
        rows.append(
            {"name": name, "role": role, "home_grid_id": grid_ids[code], "geom": households["geom"].iat[at]}
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return 0
    frame = frame.rename(columns={"geom": "last_position"}).assign(status="available", last_seen_at="now")
    copy_frame(connection, "team_member", frame)
    return len(frame)

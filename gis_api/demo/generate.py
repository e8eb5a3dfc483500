"""Deterministic generator of the Wuchang demo dataset (pure Python, no database).

Real inputs: OSM district outline, OSM-derived main roads, OSM building footprints, NBS 2023
street/community codes, 2020 census totals. Synthetic and calibrated: street polygons, water,
extra residential buildings, households and the old 180-community plan. Same seed, same data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis_api.demo.buildings import classify_osm_buildings, scale_households
from gis_api.demo.compounds import StreetLand, blocked_land, campus_zone, fill_street
from gis_api.demo.households import draw_residents, place_households
from gis_api.demo.old_plan import build_old_plan, largest_remainder
from gis_api.demo.sources import (
    DISTRICT_CODE,
    DISTRICT_NAME,
    METRIC_CRS,
    OUTPUT_CRS,
    DemoSources,
    load_sources,
)
from gis_api.demo.streets import build_streets
from gis_api.demo.water import build_water
from gis_api.loaders.validate import as_multipolygon

# Old walled city and the riverside north of it: mostly older walk-up compounds.
OLD_CITY_STREETS = frozenset({"420106001", "420106005", "420106006", "420106007", "420106008", "420106010"})
OLD_CITY_LOWRISE_SHARE = 0.55
NEWER_LOWRISE_SHARE = 0.25
# Mapped OSM homes may hold at most this share of a street's households; synthetic ones fill the rest.
OSM_MAX_SHARE = 0.85


@dataclass(frozen=True)
class DemoDataset:
    """The generated demo, every geometry in EPSG:4326."""

    district: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    households: pd.DataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame


def street_household_targets(sources: DemoSources) -> pd.Series:
    """Households per street in proportion to its official community count, summing to the census total."""
    counts = (
        sources.community_codes.groupby("streetCode").size().reindex(sources.street_codes.code, fill_value=0)
    )
    targets = largest_remainder(counts.to_numpy(dtype=float), sources.census.households)
    return pd.Series(targets, index=counts.index)


def street_of_points(points: np.ndarray, streets: gpd.GeoDataFrame) -> np.ndarray:
    """Street code of each point (None outside every street)."""
    point_index, street_index = streets.sindex.query(points, predicate="within")
    codes = np.full(len(points), None, dtype=object)
    codes[point_index] = streets.code.to_numpy()[street_index]
    return codes


def calibrate_osm(osm: gpd.GeoDataFrame, targets: pd.Series) -> gpd.GeoDataFrame:
    """Scale a street's mapped homes down where they alone would exceed OSM_MAX_SHARE of its target."""
    result = osm.copy()
    for code, target in targets.items():
        in_street = (result.street_code == code).to_numpy()
        mapped = int(result.households.to_numpy()[in_street].sum())
        if mapped > OSM_MAX_SHARE * target:
            factor = OSM_MAX_SHARE * target / mapped
            result.loc[in_street, "households"] = scale_households(
                result.households.to_numpy()[in_street], factor
            )
    return result


def street_lands(
    streets: gpd.GeoDataFrame, blocked: shapely.Geometry, campus: shapely.Geometry
) -> list[StreetLand]:
    """Free ordinary and campus land of every street."""
    lands = []
    for street in streets.itertuples():
        free = shapely.difference(street.geometry, blocked)
        lowrise = OLD_CITY_LOWRISE_SHARE if street.code in OLD_CITY_STREETS else NEWER_LOWRISE_SHARE
        lands.append(
            StreetLand(
                code=street.code,
                land=shapely.difference(free, campus),
                campus_land=shapely.intersection(free, campus),
                lowrise_share=lowrise,
            )
        )
    return lands


def synthetic_buildings(
    sources: DemoSources,
    streets: gpd.GeoDataFrame,
    osm: gpd.GeoDataFrame,
    water: gpd.GeoDataFrame,
    targets: pd.Series,
    rng: np.random.Generator,
    progress: Callable[[str], None],
) -> gpd.GeoDataFrame:
    """Synthetic compounds topping every street up to its household target exactly."""
    blocked = blocked_land(water, sources.parkland, sources.whroad, sources.osm_roads, sources.osm_buildings)
    campus = campus_zone(sources.osm_buildings)
    mapped = osm.groupby("street_code").households.sum().reindex(targets.index, fill_value=0)
    frames = []
    for land, street_rng in zip(street_lands(streets, blocked, campus), rng.spawn(len(streets)), strict=True):
        needed = int(targets[land.code] - mapped[land.code])
        built = fill_street(land, needed, street_rng, streets.crs)
        frames.append(built.assign(street_code=land.code))
        kinds = ", ".join(f"{kind} {count}" for kind, count in built.kind.value_counts().sort_index().items())
        progress(f"[demo] street {land.code}: {needed} households in synthetic buildings ({kinds})")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=streets.crs)


def real_buildings(
    sources: DemoSources, streets: gpd.GeoDataFrame, targets: pd.Series, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """OSM footprints inside the district with kind, levels, calibrated households and street."""
    osm = classify_osm_buildings(sources.osm_buildings, campus_zone(sources.osm_buildings), rng)
    osm["street_code"] = street_of_points(shapely.point_on_surface(osm.geometry.values), streets)
    osm = osm[osm.street_code.notna()].reset_index(drop=True)
    return calibrate_osm(osm, targets)


def assemble_buildings(osm: gpd.GeoDataFrame, synthetic: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """OSM buildings (by way id) then synthetic ones, numbered 1..N."""
    buildings = pd.concat([osm, synthetic], ignore_index=True)
    buildings["osm_way_id"] = buildings.osm_way_id.astype("Int64")
    buildings.insert(0, "building_id", np.arange(1, len(buildings) + 1, dtype=np.int64))
    return gpd.GeoDataFrame(buildings, geometry="geometry", crs=osm.crs)


def check_households_in_grids(
    grids: gpd.GeoDataFrame, grid_code: np.ndarray, x: np.ndarray, y: np.ndarray
) -> None:
    """Fail loudly if any household point is not inside the grid recorded for it."""
    geometry_of = dict(zip(grids.code, grids.geometry.values, strict=True))
    polygons = np.array([geometry_of[code] for code in pd.unique(grid_code)], dtype=object)
    position = pd.Index(pd.unique(grid_code)).get_indexer(grid_code)
    shapely.prepare(polygons)
    outside = ~shapely.contains_xy(polygons[position], x, y)
    if outside.any():
        raise RuntimeError(f"{int(outside.sum())} households fall outside their grid")


def to_output(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 and repair any geometry the projection made invalid."""
    result = frame.to_crs(OUTPUT_CRS)
    invalid = ~result.geometry.is_valid
    if invalid.any():
        result.loc[invalid, "geometry"] = result.geometry[invalid].make_valid()
    return result


def household_frame(
    buildings: gpd.GeoDataFrame, owner: np.ndarray, x: np.ndarray, y: np.ndarray, residents: np.ndarray
) -> pd.DataFrame:
    """Households with WGS84 lon/lat, building id and grid code."""
    lon, lat = Transformer.from_crs(METRIC_CRS, OUTPUT_CRS, always_xy=True).transform(x, y)
    return pd.DataFrame(
        {
            "household_id": np.arange(1, owner.size + 1, dtype=np.int64),
            "building_id": buildings.building_id.to_numpy()[owner],
            "residents": residents,
            "lon": lon,
            "lat": lat,
            "grid_code": buildings.grid_code.to_numpy()[owner],
        }
    )


BUILDING_COLUMNS = [
    "building_id",
    "source",
    "osm_way_id",
    "kind",
    "levels",
    "households",
    "grid_code",
    "name",
    "geometry",
]


def generate_demo(
    data_dir: Path, seed: int = 420106, progress: Callable[[str], None] | None = None
) -> DemoDataset:
    """Build the whole Wuchang demo from the shipped inputs under data_dir, deterministically from seed."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    osm_rng, compound_rng, plan_rng, household_rng = np.random.default_rng(seed).spawn(4)
    sources = load_sources(Path(data_dir))
    say("[demo] inputs loaded")
    water = build_water(sources.water_outlines, sources.district, sources.osm_buildings)
    streets = build_streets(
        sources.district, sources.whroad.geometry, sources.street_seeds, sources.street_codes
    )
    say(f"[demo] {len(streets)} streets, {len(water)} water bodies")
    targets = street_household_targets(sources)
    osm = real_buildings(sources, streets, targets, osm_rng)
    synthetic = synthetic_buildings(sources, streets, osm, water, targets, compound_rng, say)
    buildings = assemble_buildings(osm, synthetic)
    households = buildings.households.to_numpy()
    points = shapely.get_coordinates(shapely.point_on_surface(buildings.geometry.values))
    plan = build_old_plan(
        streets, buildings.street_code.to_numpy(), points, households, sources.community_codes, plan_rng
    )
    buildings["grid_code"] = plan.building_grid
    say(f"[demo] old plan: {len(plan.communities)} communities, {len(plan.grids)} grids")
    owner, x, y = place_households(
        buildings.geometry.values, plan.building_cell, households, household_rng, say
    )
    check_households_in_grids(plan.grids, plan.building_grid[owner], x, y)
    residents = draw_residents(owner.size, sources.census.residents, household_rng)
    district = gpd.GeoDataFrame(
        {"code": [DISTRICT_CODE], "name": [DISTRICT_NAME]},
        geometry=[as_multipolygon(sources.district)],
        crs=METRIC_CRS,
    )
    dataset = DemoDataset(
        district=to_output(district),
        streets=to_output(streets),
        water=to_output(water),
        buildings=to_output(buildings[BUILDING_COLUMNS]),
        households=household_frame(buildings, owner, x, y, residents),
        communities=to_output(plan.communities[["code", "name", "street_code", "synthetic", "geometry"]]),
        grids=to_output(plan.grids[["code", "name", "community_code", "geometry"]]),
    )
    say(f"[demo] generated {owner.size} households in {time.perf_counter() - started:.1f} s")
    return dataset

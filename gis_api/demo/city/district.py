"""Generate one district of the city the way the Wuchang demo is generated, from its real outline,
its census households and the real main roads where they exist; everything else is synthetic.

Steps: settlements (gis_api.demo.city.settlement) and their roads; street polygons from seeds at
the households' centres of mass, split along roads (gis_api.demo.streets.build_streets), one street
per ~31,600 households (Wuchang's households per official street) and none smaller than one
community; buildings (gis_api.demo.city.fill); an uneven old plan of communities and grids
(gis_api.demo.old_plan's bisection, Voronoi cells dissolved); households in the footprints with
resident counts summing to the census figure. Same seed, same district.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.dissolve import dissolve
from gis_api.demo.city.fill import fill_streets, street_pieces
from gis_api.demo.city.roads import settlement_roads
from gis_api.demo.city.settlement import SettlementPlan, plan_settlement
from gis_api.demo.city.sources import DistrictSpec
from gis_api.demo.generate import check_households_in_grids, to_output
from gis_api.demo.households import draw_residents, place_households
from gis_api.demo.old_plan import (
    bisect_labels,
    grid_code,
    partition_street,
    street_community_rows,
)
from gis_api.demo.streets import build_streets
from gis_api.districts.crs import choose_metric_crs
from gis_api.loaders.validate import as_multipolygon

Progress = Callable[[str], None]
MAIN_ROAD_HALF_WIDTH_M = 14.0
SYNTHETIC_ROAD_HALF_WIDTH_M = 8.0
ROAD_CLIP_BUFFER_M = 1_000.0
"""Main roads are kept this far beyond the outline, as for the Wuchang demo's road file."""
OLD_COMMUNITY_MEAN = 2_458
"""Households per community of the old plans: Wuchang's 442,409 over its 180 old communities."""
MIN_STREET_HOUSEHOLDS = 3_000
"""A street holds at least one community of the redistricting target."""
MASS_CELL_M = 250.0
NO_OFFICIAL = pd.DataFrame(columns=["code", "name", "streetCode"])


@dataclass(frozen=True)
class CityDistrict:
    """A generated district, geometries in EPSG:4326; `metric_crs` is the one it was made in."""

    code: str
    name: str
    metric_crs: str
    outline: BaseGeometry
    streets: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    households: pd.DataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    settlements: int


@dataclass(frozen=True)
class Calibration:
    """The figures every generated district is calibrated to (from Wuchang)."""

    urban_households_per_m2: float
    households_per_street: float


def district_roads(
    outline: BaseGeometry, main_roads: gpd.GeoDataFrame, crs: str
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The main roads within ROAD_CLIP_BUFFER_M of the outline (metric CRS) and their lines."""
    near = outline.buffer(ROAD_CLIP_BUFFER_M)
    roads = main_roads.to_crs(crs)
    kept = roads[roads.intersects(near)].copy()
    kept["geometry"] = shapely.intersection(kept.geometry.to_numpy(), near)
    kept = kept.explode(index_parts=False, ignore_index=True)
    kept = kept[kept.geom_type == "LineString"].reset_index(drop=True)
    return kept, kept.geometry.to_numpy()


def mass_points(plan: SettlementPlan) -> tuple[np.ndarray, np.ndarray]:
    """Points carrying the households (a lattice over the urban land, settlement centres) and weights."""
    xy, weight = [np.empty((0, 2))], [np.empty(0)]
    land = plan.urban_land
    if plan.urban_households > 0 and land.area > 0:
        minx, miny, maxx, maxy = land.bounds
        gx, gy = np.meshgrid(np.arange(minx, maxx, MASS_CELL_M), np.arange(miny, maxy, MASS_CELL_M))
        inside = shapely.contains_xy(land, gx.ravel(), gy.ravel())
        points = np.column_stack([gx.ravel()[inside], gy.ravel()[inside]])
        if len(points) == 0:
            point = land.representative_point()
            points = np.array([[point.x, point.y]])
        xy.append(points)
        weight.append(np.full(len(points), plan.urban_households / len(points)))
    settlements = plan.settlements
    xy.append(np.column_stack([settlements.x, settlements.y]))
    weight.append(settlements.households.astype(float))
    return np.concatenate(xy), np.concatenate(weight)


def street_seeds(plan: SettlementPlan, count: int, crs: str, code: str) -> gpd.GeoDataFrame:
    """One seed per street at the centre of mass of an equal share of the households."""
    xy, weight = mass_points(plan)
    count = max(1, min(count, len(xy)))
    labels = bisect_labels(xy, weight, np.full(count, weight.sum() / count))
    centres = np.array(
        [np.average(xy[labels == s], axis=0, weights=weight[labels == s] + 1e-9) for s in range(count)]
    )
    codes = [f"{code}{n:03d}" for n in range(1, count + 1)]
    return gpd.GeoDataFrame({"street_code": codes}, geometry=shapely.points(centres), crs=crs)


def street_households(streets: gpd.GeoDataFrame, plan: SettlementPlan) -> np.ndarray:
    """Households each street polygon would hold (settlements and urban land shared by area)."""
    sources = [(plan.urban_land, plan.urban_households)]
    sources += list(zip(plan.settlements.discs(), plan.settlements.households.tolist(), strict=True))
    totals = np.zeros(len(streets))
    for shape, households in sources:
        areas = shapely.area(shapely.intersection(streets.geometry.to_numpy(), shape))
        if households > 0 and areas.sum() > 0:
            totals += households * areas / areas.sum()
    return totals


def merge_small_streets(streets: gpd.GeoDataFrame, plan: SettlementPlan, short: str) -> gpd.GeoDataFrame:
    """Join streets holding less than MIN_STREET_HOUSEHOLDS to the neighbour sharing most boundary,
    then number them 001.. in their original order."""
    geoms = list(streets.geometry.to_numpy())
    while len(geoms) > 1:
        totals = street_households(gpd.GeoDataFrame(geometry=geoms, crs=streets.crs), plan)
        smallest = int(np.argmin(totals))
        if totals[smallest] >= MIN_STREET_HOUSEHOLDS:
            break
        rim = geoms[smallest].boundary
        shared = [
            shapely.length(shapely.intersection(rim, g.boundary)) if i != smallest else -1.0
            for i, g in enumerate(geoms)
        ]
        host = int(np.argmax(shared))
        geoms[host] = as_multipolygon(shapely.union_all([geoms[host], geoms[smallest]], grid_size=0.001))
        del geoms[smallest]
    district = streets["code"].iloc[0][:6]
    codes = [f"{district}{n:03d}" for n in range(1, len(geoms) + 1)]
    names = [street_name(short, n) for n in range(1, len(geoms) + 1)]
    return gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geoms, crs=streets.crs)


def street_name(short: str, number: int) -> str:
    """Placeholder street name, e.g. 黄陂03街道 (no official names exist in the shared data)."""
    return f"{short}{number:02d}街道"


def build_district_streets(
    spec: DistrictSpec,
    outline: BaseGeometry,
    roads: gpd.GeoSeries,
    plan: SettlementPlan,
    calibration: Calibration,
    crs: str,
) -> gpd.GeoDataFrame:
    """Street polygons tiling the outline, following the roads, holding similar household counts."""
    count = max(1, round(spec.households / calibration.households_per_street))
    seeds = street_seeds(plan, count, crs, spec.code)
    codes = pd.DataFrame({"code": seeds["street_code"], "name": seeds["street_code"]})
    streets = build_streets(outline, roads, seeds, codes)
    return merge_small_streets(streets, plan, spec.name.removesuffix("区"))


def old_plan_labels(
    streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray, dict[tuple[str, int], dict[str, object]]]:
    """Per building: street, community and grid labels, its Voronoi cell; names of the communities."""
    xy = shapely.get_coordinates(shapely.point_on_surface(buildings.geometry.to_numpy()))
    households = buildings["households"].to_numpy()
    street_of = buildings["street_code"].to_numpy()
    labels = pd.DataFrame({"street_code": street_of, "community": -1, "grid": -1})
    cells = np.empty(len(buildings), dtype=object)
    names: dict[tuple[str, int], dict[str, object]] = {}
    for street in streets.itertuples():
        members = np.flatnonzero(street_of == street.code)
        if members.size == 0:
            raise ValueError(f"street {street.code} holds no building")
        count = max(1, round(households[members].sum() / OLD_COMMUNITY_MEAN))
        count = min(count, members.size)
        part = partition_street(street.geometry, xy[members], households[members], count, rng)
        labels.loc[members, "community"] = part.community
        labels.loc[members, "grid"] = part.grid
        cells[members] = part.cells
        rows = street_community_rows(street.code, street.name, count, NO_OFFICIAL)
        names.update({(street.code, label): row for label, row in enumerate(rows)})
    return labels, cells, names


def old_plan(
    streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Communities and grids (metric CRS) of the old plan, each building's grid code and cell."""
    labels, cells, names = old_plan_labels(streets, buildings, rng)
    pairs = zip(labels["street_code"], labels["community"], strict=True)
    community_codes = np.array([str(names[(street, label)]["code"]) for street, label in pairs])
    building_grid = np.array([grid_code(c, g) for c, g in zip(community_codes, labels["grid"], strict=True)])
    community_list, community_index = np.unique(community_codes, return_inverse=True)
    grid_list, grid_index = np.unique(building_grid, return_inverse=True)
    community_shapes = dissolve(cells, community_index.ravel(), len(community_list))
    grid_shapes = dissolve(cells, grid_index.ravel(), len(grid_list))
    by_code = {str(info["code"]): info for info in names.values()}
    communities = gpd.GeoDataFrame(
        {
            "code": community_list,
            "name": [by_code[c]["name"] for c in community_list],
            "street_code": [c[:9] for c in community_list],
            "synthetic": True,
        },
        geometry=[as_multipolygon(g) for g in community_shapes],
        crs=streets.crs,
    )
    community_name = dict(zip(communities["code"], communities["name"], strict=True))
    grids = gpd.GeoDataFrame(
        {
            "code": grid_list,
            "name": [f"{community_name[g[:12]]}第{g[12:]}网格" for g in grid_list],
            "community_code": [g[:12] for g in grid_list],
        },
        geometry=[as_multipolygon(g) for g in grid_shapes],
        crs=streets.crs,
    )
    return communities, grids, building_grid, cells


def metric_outline(spec: DistrictSpec) -> tuple[BaseGeometry, str]:
    """The outline in the district's metric CRS (chosen from its location) and that CRS."""
    centre = spec.outline.centroid
    crs = choose_metric_crs(centre.x, centre.y).name
    outline = gpd.GeoSeries([spec.outline], crs="EPSG:4326").to_crs(crs).iloc[0]
    return shapely.make_valid(outline), crs


def all_roads(main: gpd.GeoDataFrame, synthetic: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Main roads (classes come from OSM at load time) and synthetic roads, metric CRS."""
    count = len(main)
    real = gpd.GeoDataFrame(
        {"road_class": [None] * count, "name": [None] * count, "synthetic": [False] * count},
        geometry=main.geometry.to_numpy(),
        crs=main.crs,
    )
    made = synthetic.assign(synthetic=True)
    return gpd.GeoDataFrame(pd.concat([real, made], ignore_index=True), geometry="geometry", crs=main.crs)


def road_space(roads: gpd.GeoDataFrame) -> BaseGeometry:
    """Where no home may stand: the carriageways."""
    width = np.where(
        roads["synthetic"].to_numpy(dtype=bool), SYNTHETIC_ROAD_HALF_WIDTH_M, MAIN_ROAD_HALF_WIDTH_M
    )
    return shapely.union_all(shapely.buffer(roads.geometry.to_numpy(), width, quad_segs=2))


def household_frame(
    buildings: gpd.GeoDataFrame,
    owner: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    residents: np.ndarray,
    crs: str,
) -> pd.DataFrame:
    """Households with WGS84 lon/lat, local building index and old-plan grid code."""
    lonlat = gpd.GeoSeries(shapely.points(x, y), crs=crs).to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "household_id": np.arange(1, owner.size + 1, dtype=np.int64),
            "building_id": buildings["building_id"].to_numpy()[owner],
            "residents": residents,
            "lon": lonlat.x.to_numpy(),
            "lat": lonlat.y.to_numpy(),
            "grid_code": buildings["grid_code"].to_numpy()[owner],
        }
    )


def generate_district(
    spec: DistrictSpec,
    main_roads: gpd.GeoDataFrame,
    calibration: Calibration,
    seed: int,
    progress: Progress | None = None,
) -> CityDistrict:
    """One district from its spec; deterministic for (seed, district code)."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    settle_rng, fill_rng, plan_rng, household_rng = np.random.default_rng([seed, int(spec.code)]).spawn(4)
    outline, crs = metric_outline(spec)
    main, main_lines = district_roads(outline, main_roads, crs)
    plan = plan_settlement(
        outline, main_lines, spec.households, calibration.urban_households_per_m2, settle_rng
    )
    roads = all_roads(main, settlement_roads(plan.settlements, main_lines, crs))
    streets = build_district_streets(spec, outline, roads.geometry, plan, calibration, crs)
    say(
        f"[city] {spec.code} {spec.name}: {spec.households:,} households, {len(streets)} streets, "
        f"{len(plan.settlements)} settlements, {plan.urban_households:,} households on urban land"
    )
    buildings = fill_streets(street_pieces(streets, plan, road_space(roads)), crs, fill_rng)
    buildings.insert(0, "building_id", np.arange(1, len(buildings) + 1, dtype=np.int64))
    communities, grids, building_grid, cells = old_plan(streets, buildings, plan_rng)
    buildings["grid_code"] = building_grid
    households = buildings["households"].to_numpy()
    owner, x, y = place_households(
        buildings.geometry.to_numpy(), cells, households, household_rng, lambda _m: None
    )
    check_households_in_grids(grids, building_grid[owner], x, y)
    residents = draw_residents(owner.size, spec.residents, household_rng)
    say(
        f"[city] {spec.code} {spec.name}: {len(buildings):,} buildings, {len(communities)} communities, "
        f"{len(grids):,} grids, {owner.size:,} households in {time.perf_counter() - started:.1f} s"
    )
    return CityDistrict(
        code=spec.code,
        name=spec.name,
        metric_crs=crs,
        outline=spec.outline,
        streets=to_output(streets),
        buildings=to_output(
            buildings[["building_id", "source", "kind", "levels", "households", "grid_code", "geometry"]]
        ),
        households=household_frame(buildings, owner, x, y, residents, crs),
        communities=to_output(communities),
        grids=to_output(grids),
        roads=roads.to_crs("EPSG:4326"),
        settlements=len(plan.settlements),
    )

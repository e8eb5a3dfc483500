"""Synthetic residential compounds filling the homes that OSM does not map.

Free land (not water, parkland, riverside park, roads, campuses or near a mapped building) is
cut into compound parcels 160-240 m across separated by lanes. A parcel is either a tower
compound (point/slab towers of 100-400 households) or an older low-rise compound (rows of
5-7 storey walk-ups of 20-60 households), with the long side facing south as in Chinese
housing estates. Campus parcels with dormitory rows are used only when a street's ordinary
land runs out. Parcels are filled in random order until the street's household target is met,
so the rest stays empty land (schools, markets, offices, green space).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from gis_api.demo.buildings import trim_to_total

LANE_HALF_WIDTH_M = 6.0
MIN_PARCEL_M2 = 2_500.0
PARCEL_EDGE_M = 8.0


@dataclass(frozen=True)
class CompoundKind:
    """Footprint, spacing and household rules of one kind of synthetic compound."""

    name: str
    width_m: tuple[float, float]
    depth_m: tuple[float, float]
    gap_x_m: tuple[float, float]
    gap_y_m: tuple[float, float]
    levels: tuple[int, int]
    units_per_floor: tuple[int, ...]
    households: tuple[int, int]


TOWER = CompoundKind("tower", (22, 34), (14, 20), (18, 30), (30, 45), (18, 34), (4, 6, 8, 10, 12), (100, 400))
LOWRISE = CompoundKind("lowrise", (40, 70), (10, 13), (8, 16), (14, 22), (5, 7), (4, 5, 6, 7, 8), (20, 60))
# Used only where a street cannot reach its target otherwise (the densest old riverside streets).
DENSE_TOWER = CompoundKind("tower", (24, 34), (16, 20), (15, 22), (24, 32), (26, 34), (10, 12), (100, 400))
CAMPUS = CompoundKind("campus", (50, 75), (12, 15), (12, 20), (18, 26), (5, 7), (8, 10, 12), (30, 90))
# Rows of terraced two- or three-storey village houses (the generated city's villages).
VILLAGE = CompoundKind("village", (24, 40), (9, 12), (8, 14), (14, 22), (2, 3), (2, 3), (4, 10))
KIND_FLOOR = {kind.name: kind.households[0] for kind in (TOWER, LOWRISE, CAMPUS, VILLAGE)}


@dataclass(frozen=True)
class StreetLand:
    """Where one street may build, and how its compounds look."""

    code: str
    land: BaseGeometry
    campus_land: BaseGeometry
    lowrise_share: float


@dataclass
class Layout:
    """Footprints (rotated frame, (n, 4, 2)) with levels and households, in parcel fill order."""

    corners: np.ndarray
    levels: np.ndarray
    households: np.ndarray
    kinds: np.ndarray


def lattice_parcels(land: BaseGeometry, rng: np.random.Generator) -> np.ndarray:
    """Cut land into square parcels of a random 160-240 m size, separated by lanes."""
    if land.is_empty:
        return np.empty(0, dtype=object)
    size = rng.uniform(160.0, 240.0)
    minx, miny, maxx, maxy = land.bounds
    xs = np.arange(minx - rng.uniform(0, size), maxx, size)
    ys = np.arange(miny - rng.uniform(0, size), maxy, size)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    cells = shapely.box(
        gx + LANE_HALF_WIDTH_M,
        gy + LANE_HALF_WIDTH_M,
        gx + size - LANE_HALF_WIDTH_M,
        gy + size - LANE_HALF_WIDTH_M,
    )
    pieces = shapely.get_parts(shapely.intersection(cells, land))
    polygons = pieces[shapely.get_type_id(pieces) == 3]
    return polygons[shapely.area(polygons) >= MIN_PARCEL_M2]


def compound_footprints(parcel: BaseGeometry, kind: CompoundKind, rng: np.random.Generator) -> np.ndarray:
    """Rectangles (n, 4, 2) of one compound's buildings on a jittered lattice inside the parcel."""
    width, depth = rng.uniform(*kind.width_m), rng.uniform(*kind.depth_m)
    step_x, step_y = width + rng.uniform(*kind.gap_x_m), depth + rng.uniform(*kind.gap_y_m)
    minx, miny, maxx, maxy = parcel.bounds
    xs = np.arange(minx + PARCEL_EDGE_M + rng.uniform(0, step_x - width), maxx - width, step_x)
    ys = np.arange(miny + PARCEL_EDGE_M + rng.uniform(0, step_y - depth), maxy - depth, step_y)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    gx = gx + rng.uniform(-2.0, 2.0, gx.size)
    gy = gy + rng.uniform(-2.0, 2.0, gy.size)
    corners = np.stack(
        [
            np.column_stack([gx, gy]),
            np.column_stack([gx + width, gy]),
            np.column_stack([gx + width, gy + depth]),
            np.column_stack([gx, gy + depth]),
        ],
        axis=1,
    )
    inside = shapely.contains(parcel.buffer(-PARCEL_EDGE_M / 2), shapely.polygons(corners))
    return corners[inside]


def compound_households(
    kind: CompoundKind, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Levels and households of a compound's buildings: one design, small variations."""
    base_levels = rng.integers(kind.levels[0], kind.levels[1] + 1)
    levels = np.clip(base_levels + rng.integers(-1, 2, count), *kind.levels)
    units = rng.choice(np.asarray(kind.units_per_floor))
    households = np.clip(levels * units + rng.integers(-3, 4, count), *kind.households)
    return levels.astype(np.int64), households.astype(np.int64)


def layout_parcels(parcels: np.ndarray, kinds: list[CompoundKind], rng: np.random.Generator) -> Layout:
    """Footprints and households of each parcel's compound, parcels in the given order."""
    corners = [np.empty((0, 4, 2))]
    levels = [np.empty(0, dtype=np.int64)]
    households = [np.empty(0, dtype=np.int64)]
    names = [np.empty(0, dtype=object)]
    for parcel, kind in zip(parcels, kinds, strict=True):
        rects = compound_footprints(parcel, kind, rng)
        parcel_levels, parcel_households = compound_households(kind, len(rects), rng)
        corners.append(rects)
        levels.append(parcel_levels)
        households.append(parcel_households)
        names.append(np.full(len(rects), kind.name, dtype=object))
    return Layout(
        np.concatenate(corners), np.concatenate(levels), np.concatenate(households), np.concatenate(names)
    )


def candidate_layout(
    street: StreetLand,
    tower: CompoundKind,
    angle: float,
    origin: tuple[float, float],
    rng: np.random.Generator,
) -> Layout:
    """Every compound the street could hold: its ordinary parcels in random order, then campus parcels."""
    land = affinity.rotate(street.land, -angle, origin=origin)
    campus = affinity.rotate(street.campus_land, -angle, origin=origin)
    ordinary = lattice_parcels(land, rng)
    ordinary = ordinary[rng.permutation(len(ordinary))]
    dorms = lattice_parcels(campus, rng)
    kinds = [LOWRISE if rng.random() < street.lowrise_share else tower for _ in ordinary]
    return layout_parcels(np.concatenate([ordinary, dorms]), kinds + [CAMPUS] * len(dorms), rng)


def take_until(layout: Layout, target: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the first buildings in fill order whose households reach target (trimmed exactly)."""
    cumulative = np.cumsum(layout.households)
    if target <= 0:
        return np.empty(0, dtype=np.int64)
    if cumulative.size == 0 or cumulative[-1] < target:
        return np.empty(0, dtype=np.int64)
    count = int(np.searchsorted(cumulative, target) + 1)
    chosen = np.arange(count)
    floors = np.array([KIND_FLOOR[k] for k in layout.kinds[chosen]])
    layout.households[chosen] = trim_to_total(layout.households[chosen], floors, target, rng)
    return chosen


def rotate_back(corners: np.ndarray, angle: float, origin: tuple[float, float]) -> np.ndarray:
    """Rotate rectangle corners from the street's compound frame back to map coordinates."""
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    shifted = corners - np.asarray(origin)
    return shifted @ rotation.T + np.asarray(origin)


def fill_street(street: StreetLand, target: int, rng: np.random.Generator, crs: object) -> gpd.GeoDataFrame:
    """Synthetic buildings holding exactly `target` households in the street's free land."""
    angle = float(rng.uniform(-15.0, 15.0))
    centroid = street.land.centroid if not street.land.is_empty else street.campus_land.centroid
    origin = (centroid.x, centroid.y)
    # Where the usual mix does not fit, build towers only, then denser towers, as old districts do.
    attempts = [
        (street, TOWER),
        (replace(street, lowrise_share=0.0), TOWER),
        (replace(street, lowrise_share=0.0), DENSE_TOWER),
    ]
    capacity = 0
    for land, tower in attempts:
        layout = candidate_layout(land, tower, angle, origin, rng)
        chosen = take_until(layout, target, rng)
        if target <= 0 or chosen.size:
            break
        capacity = max(capacity, int(layout.households.sum()))
    else:
        raise ValueError(f"street {street.code}: free land holds {capacity} households, {target} needed")
    corners = rotate_back(layout.corners[chosen], angle, origin)
    rings = np.concatenate([corners, corners[:, :1]], axis=1)
    return gpd.GeoDataFrame(
        {
            "source": "synthetic",
            "kind": layout.kinds[chosen],
            "levels": layout.levels[chosen],
            "households": layout.households[chosen],
        },
        geometry=shapely.polygons(rings),
        crs=crs,
    )


RIVER_PARK_M = 150.0
SHORE_M = 30.0
MAIN_ROAD_HALF_WIDTH_M = 14.0
MINOR_ROAD_HALF_WIDTH_M = 8.0
BUILDING_CLEARANCE_M = 15.0
CAMPUS_REACH_M = 90.0
CAMPUS_TAGS = frozenset({"university", "college", "school", "kindergarten", "hospital", "dormitory"})
CAMPUS_NAME = r"大学|学院|学校|中学|小学|医院"
NOT_MOTOR_ROADS = frozenset({"footway", "path", "cycleway", "pedestrian", "construction", "track"})


def motor_roads(osm_roads: gpd.GeoDataFrame) -> np.ndarray:
    """OSM road lines that carry traffic at grade (no paths, tunnels or roads under construction)."""
    names = osm_roads["name"].astype("string").fillna("")
    at_grade = ~names.str.contains("隧道").to_numpy(dtype=bool)
    motor = ~osm_roads["type"].isin(NOT_MOTOR_ROADS).to_numpy()
    return osm_roads.geometry.values[at_grade & motor]


def campus_zone(osm: gpd.GeoDataFrame) -> BaseGeometry:
    """Land of universities, schools and hospitals: the reach around their mapped buildings."""
    names = osm["name"].astype("string").fillna("")
    institutional = osm.building.isin(CAMPUS_TAGS).to_numpy() | names.str.contains(CAMPUS_NAME).to_numpy(
        dtype=bool
    )
    reach = shapely.union_all(shapely.buffer(osm.geometry.values[institutional], CAMPUS_REACH_M))
    return reach.buffer(-CAMPUS_REACH_M / 2)


def blocked_land(
    water: gpd.GeoDataFrame,
    parkland: gpd.GeoDataFrame,
    whroad: gpd.GeoDataFrame,
    osm_roads: gpd.GeoDataFrame,
    osm: gpd.GeoDataFrame,
) -> BaseGeometry:
    """Where no synthetic home may stand: water and shores, riverside park, parks, roads, mapped buildings."""
    river = water[water.kind == "river"].geometry.values
    lakes = water[water.kind != "river"].geometry.values
    parts = [
        *shapely.buffer(river, RIVER_PARK_M),
        *shapely.buffer(lakes, SHORE_M),
        *parkland.geometry.values,
        *shapely.buffer(whroad.geometry.values, MAIN_ROAD_HALF_WIDTH_M, quad_segs=2),
        *shapely.buffer(motor_roads(osm_roads), MINOR_ROAD_HALF_WIDTH_M, quad_segs=2),
        *shapely.buffer(osm.geometry.values, BUILDING_CLEARANCE_M, quad_segs=2),
    ]
    return shapely.union_all(parts)

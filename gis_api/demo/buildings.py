"""Real OSM footprints as buildings: which ones are homes, how tall, how many households.

OSM tags say what a building is for only in part, so residential use is taken from the tag
(apartments, residential, house, dormitory, ...) or, for building=yes, from being among
tagged homes and having no name of a non-residential kind. Missing levels are imputed from
the tag; households come from floor area (footprint x levels) at a gross 100 m² per home.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

RESIDENTIAL_TAGS = frozenset({"apartments", "residential", "house", "dormitory", "detached", "bungalow"})
HOUSE_TAGS = frozenset({"house", "detached", "bungalow"})
# A named building=yes counts as a home only when its name reads like one.
HOME_NAME = re.compile(r"(?:栋|幢|号楼|公寓|宿舍|小区|花园|新村|舍)\s*$|^\s*[A-Za-z]?\d+\s*$")
NEIGHBOUR_RADIUS_M = 100.0
MIN_HOME_NEIGHBOURS = 2
MIN_HOME_AREA_M2 = 60.0
MAX_HOME_AREA_M2 = 6_000.0
FLOOR_M2_PER_HOUSEHOLD = 100.0
MAX_OSM_HOUSEHOLDS = 400
TOWER_MIN_LEVELS = 10
MIDRISE_MIN_LEVELS = 4


def parse_levels(raw: pd.Series) -> pd.Series:
    """First integer of the building:levels tag, or NA when absent or implausible."""
    first = raw.astype("string").str.extract(r"(\d+)", expand=False)
    levels = pd.to_numeric(first, errors="coerce")
    return levels.where((levels >= 1) & (levels <= 80)).astype("Int64")


def tagged_home_neighbours(footprints: gpd.GeoSeries, tagged: np.ndarray) -> np.ndarray:
    """How many residential-tagged footprints lie within NEIGHBOUR_RADIUS_M of each footprint."""
    tree = shapely.STRtree(footprints.values[tagged])
    pairs = tree.query(footprints.values, predicate="dwithin", distance=NEIGHBOUR_RADIUS_M)
    return np.bincount(pairs[0], minlength=len(footprints))


def residential_mask(osm: gpd.GeoDataFrame, campus: BaseGeometry) -> np.ndarray:
    """True for footprints used as homes: tagged ones, and plain building=yes ones whose name
    (if any) reads like a home and that stand among tagged homes or outside campus land."""
    tag = osm.building.to_numpy()
    tagged = np.isin(tag, list(RESIDENTIAL_TAGS))
    names = osm.name.astype("string").fillna("")
    home_name = (names == "") | names.str.contains(HOME_NAME).to_numpy(dtype=bool)
    near_homes = tagged_home_neighbours(osm.geometry, tagged) >= MIN_HOME_NEIGHBOURS
    off_campus = ~shapely.intersects(campus, osm.geometry.values)
    area = osm.geometry.area.to_numpy()
    sized = (area >= MIN_HOME_AREA_M2) & (area <= MAX_HOME_AREA_M2)
    plain_home = (tag == "yes") & np.asarray(home_name) & (near_homes | off_campus)
    return sized & (tagged | plain_home)


def impute_levels(tag: np.ndarray, known: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Known levels, else a draw by use: towers or walk-ups for flats, 2-3 for houses."""
    n = len(tag)
    flats = np.where(rng.random(n) < 0.3, rng.integers(16, 34, n), rng.integers(5, 9, n))
    drawn = np.select(
        [np.isin(tag, list(HOUSE_TAGS)), tag == "dormitory", tag == "yes"],
        [
            rng.integers(2, 4, n),
            rng.integers(5, 8, n),
            np.where(rng.random(n) < 0.15, flats, rng.integers(5, 8, n)),
        ],
        default=flats,
    )
    return np.where(known.isna().to_numpy(), drawn, known.fillna(0).to_numpy(dtype=np.int64)).astype(np.int64)


def kind_of(tag: np.ndarray, levels: np.ndarray, residential: np.ndarray) -> np.ndarray:
    """Building kind: campus (dormitories), tower, midrise, lowrise or nonresidential."""
    kind = np.select(
        [tag == "dormitory", levels >= TOWER_MIN_LEVELS, levels >= MIDRISE_MIN_LEVELS],
        ["campus", "tower", "midrise"],
        default="lowrise",
    )
    return np.where(residential, kind, "nonresidential")


def classify_osm_buildings(
    osm: gpd.GeoDataFrame, campus: BaseGeometry, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """OSM footprints (EPSG:32650) with kind, levels and estimated households."""
    tag = osm.building.astype("string").fillna("yes").to_numpy(dtype=object)
    residential = residential_mask(osm, campus)
    levels = impute_levels(tag, parse_levels(osm.building_levels), rng)
    floor_area = osm.geometry.area.to_numpy() * levels
    households = np.clip(np.rint(floor_area / FLOOR_M2_PER_HOUSEHOLD), 1, MAX_OSM_HOUSEHOLDS)
    return gpd.GeoDataFrame(
        {
            "source": "osm",
            "osm_way_id": osm.osm_way_id.to_numpy(dtype=np.int64),
            "kind": kind_of(tag, levels, residential),
            "levels": levels,
            "households": np.where(residential, households, 0).astype(np.int64),
            "name": osm.name.astype("string").to_numpy(dtype=object),
        },
        geometry=osm.geometry.values,
        crs=osm.crs,
    )


def scale_households(households: np.ndarray, factor: float) -> np.ndarray:
    """Scale household counts down, keeping every home at one household or more."""
    scaled = np.maximum(np.rint(households * factor), 1).astype(np.int64)
    return np.where(households > 0, scaled, 0)


def trim_to_total(
    households: np.ndarray, floor: np.ndarray, target: int, rng: np.random.Generator
) -> np.ndarray:
    """Remove single households from random buildings above their floor until the sum is target."""
    result = households.copy()
    excess = int(result.sum()) - target
    while excess > 0:
        spare = np.flatnonzero(result > floor)
        if spare.size == 0:
            raise ValueError(f"cannot trim {excess} households: every building is at its minimum")
        chosen = rng.choice(spare, size=min(excess, spare.size), replace=False)
        result[chosen] -= 1
        excess -= chosen.size
    return result

"""Read the shipped Wuhan inputs under data/wuhan/: district outlines, census residents, main roads.

Residents per district come from the 2020 census bulletin (data/wuhan/wuhan_districts_census2020.csv)
with the functional zones the bulletin reports apart (东湖高新, 东湖风景, 武汉经开 without 汉南)
given to the districts that contain them by data/wuhan/functional_zones.csv; the district figures
then sum to the city's 12,326,518 residents exactly, which is checked. Households are residents
over Wuhan's 2.47 persons per family household (data/wuchang/public_figures.csv), as for Wuchang.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis_api.demo.sources import DemoDataError, read_census

CITY_CODE = "4201"
CITY_NAME = "武汉市"
OUTLINES_FILE = "wuhan_districts_osm_2018.shp"
CENSUS_FILE = "wuhan_districts_census2020.csv"
ZONES_FILE = "functional_zones.csv"
ROADS_FILE = "whroad_wuhan_3rdring.shp"
OSM_ROADS_FILE = "wuhan_roads_osm_subset_l7demo.geojson"
REQUIRED_FILES = (OUTLINES_FILE, CENSUS_FILE, ZONES_FILE, ROADS_FILE, OSM_ROADS_FILE)
FIGURES_FILE = "public_figures.csv"
"""Wuhan's persons per family household, in the Wuchang demo's figures (data/wuchang/)."""


@dataclass(frozen=True)
class DistrictSpec:
    """One district to generate: code, name, real outline (EPSG:4326), census residents, households."""

    code: str
    name: str
    outline: BaseGeometry
    residents: int
    households: int


@dataclass(frozen=True)
class CitySources:
    """The city's districts (code order) and the main roads of the whole city (EPSG:4326)."""

    districts: list[DistrictSpec]
    roads: gpd.GeoDataFrame
    osm_roads_path: Path
    persons_per_household: float
    city_residents: int

    def district(self, code: str) -> DistrictSpec:
        """The spec of one district; DemoDataError naming the known codes otherwise."""
        for spec in self.districts:
            if spec.code == code:
                return spec
        known = ", ".join(spec.code for spec in self.districts)
        raise DemoDataError(f"district {code} is not part of the city (known: {known})")


def check_folder(folder: Path) -> Path:
    """The folder itself when every input is there; DemoDataError naming the missing ones."""
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise DemoDataError(f"city inputs missing in {folder}: {', '.join(missing)}")
    return folder


def read_outlines(path: Path) -> dict[str, BaseGeometry]:
    """District outlines by Chinese name: the OSM `locname` '江汉区 (Jianghan)' gives '江汉区'."""
    frame = gpd.read_file(path)
    if frame.crs is None:
        raise DemoDataError(f"{path.name} declares no CRS")
    frame = frame.to_crs("EPSG:4326")
    names = frame["locname"].astype(str).str.split(" ").str[0].str.strip()
    return {
        name: shapely.make_valid(geometry)
        for name, geometry in zip(names, frame.geometry.values, strict=True)
    }


def allocate_residents(census: pd.DataFrame, zones: pd.DataFrame) -> dict[str, int]:
    """Residents per district code: the district rows plus the functional zones given to them.

    Every zone row of the census must be allocated once (shares summing to 1), and the result
    must sum to the city's figure; anything else is a DemoDataError naming the problem."""
    districts = census[census["kind"] == "district"]
    residents = dict(zip(districts["admin_code"], districts["residents_2020"].astype(int), strict=True))
    zone_rows = census[census["kind"] == "functional_zone"].set_index("area")["residents_2020"]
    for zone, total in zone_rows.items():
        shares = zones[zones["zone"] == zone]
        if shares.empty or not np.isclose(shares["share"].sum(), 1.0):
            raise DemoDataError(f"{ZONES_FILE}: zone {zone} must be allocated with shares summing to 1")
        parts = _largest_remainder(shares["share"].to_numpy(dtype=float), int(total))
        for code, part in zip(shares["district_code"], parts, strict=True):
            if code not in residents:
                raise DemoDataError(f"{ZONES_FILE}: zone {zone} goes to unknown district {code}")
            residents[code] += int(part)
    city = int(census.loc[census["kind"] == "city", "residents_2020"].iloc[0])
    if sum(residents.values()) != city:
        raise DemoDataError(f"district residents sum to {sum(residents.values()):,}, not the city's {city:,}")
    return residents


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integers in proportion to shares that sum exactly to total."""
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(-(exact - counts), kind="stable")[: total - int(counts.sum())]] += 1
    return counts


def read_city_census(folder: Path) -> pd.DataFrame:
    """The census table with admin codes as text."""
    return pd.read_csv(folder / CENSUS_FILE, dtype={"admin_code": str})


def load_city_sources(folder: Path, wuchang_folder: Path, scale: float = 1.0) -> CitySources:
    """Every district of the city with residents and households (times `scale`, for small runs)."""
    check_folder(folder)
    if not 0 < scale <= 1:
        raise DemoDataError(f"scale {scale} must be in (0, 1]")
    census = read_city_census(folder)
    residents = allocate_residents(census, pd.read_csv(folder / ZONES_FILE, dtype={"district_code": str}))
    per_household = read_census_per_household(wuchang_folder)
    outlines = read_outlines(folder / OUTLINES_FILE)
    names = dict(zip(census["admin_code"], census["area"].astype(str) + "区", strict=True))  # 江岸 -> 江岸区
    specs = []
    for code in sorted(residents):
        name = names[code]
        if name not in outlines:
            raise DemoDataError(f"{OUTLINES_FILE} has no outline named {name} (district {code})")
        people = round(residents[code] * scale)
        specs.append(DistrictSpec(code, name, outlines[name], people, round(people / per_household)))
    roads = gpd.read_file(folder / ROADS_FILE).to_crs("EPSG:4326")
    return CitySources(specs, roads, folder / OSM_ROADS_FILE, per_household, sum(residents.values()))


def read_census_per_household(wuchang_folder: Path) -> float:
    """Wuhan's persons per family household (2.47, 2020 census bulletin)."""
    return read_census(wuchang_folder / FIGURES_FILE).persons_per_household

"""Read the shipped Wuchang inputs under data/wuchang/ and project them to the metric CRS.

Every layer is returned in EPSG:32650 (UTM 50N) because all areas, buffers and distances
of the generator are metric; outputs are converted back to EPSG:4326 at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

METRIC_CRS = "EPSG:32650"
OUTPUT_CRS = "EPSG:4326"
DISTRICT_CODE = "420106"
DISTRICT_NAME = "武昌区"
# 东湖风景区街道（武昌）is a functional zone; its area is shared out to the 14 streets.
SCENIC_AREA_CODE = "420106490"

DISTRICT_FILE = "wuchang_district_osm_r3076297.geojson"
WHROAD_FILE = "whroad_wuchang_1km.shp"
OSM_ROADS_FILE = "osm_roads_l7_wuchang_1km.geojson"
OSM_BUILDINGS_FILE = "osm_buildings_wuchang.geojson"
STREETS_CSV = "nbs2023_streets.csv"
COMMUNITIES_CSV = "nbs2023_communities.csv"
FIGURES_CSV = "public_figures.csv"
WATER_FILE = "water_outlines.geojson"
PARKLAND_FILE = "parkland.geojson"
SEEDS_CSV = "street_seeds.csv"
REQUIRED_FILES = (
    DISTRICT_FILE,
    WHROAD_FILE,
    OSM_ROADS_FILE,
    OSM_BUILDINGS_FILE,
    STREETS_CSV,
    COMMUNITIES_CSV,
    FIGURES_CSV,
    WATER_FILE,
    PARKLAND_FILE,
    SEEDS_CSV,
)


class DemoDataError(ValueError):
    """The shipped demo inputs are missing or inconsistent."""


@dataclass(frozen=True)
class CensusFigures:
    """Published totals the synthetic households are calibrated to."""

    residents: int
    persons_per_household: float

    @property
    def households(self) -> int:
        """Household total implied by residents / persons per household (442,409)."""
        return round(self.residents / self.persons_per_household)


@dataclass(frozen=True)
class DemoSources:
    """All inputs of the generator, vector layers in EPSG:32650."""

    district: BaseGeometry
    whroad: gpd.GeoDataFrame
    osm_roads: gpd.GeoDataFrame
    osm_buildings: gpd.GeoDataFrame
    street_codes: pd.DataFrame
    community_codes: pd.DataFrame
    census: CensusFigures
    water_outlines: gpd.GeoDataFrame
    parkland: gpd.GeoDataFrame
    street_seeds: gpd.GeoDataFrame


def resolve_data_dir(data_dir: Path) -> Path:
    """Accept either the repository's data/ folder or data/wuchang/ itself."""
    candidate = data_dir / "wuchang"
    folder = candidate if candidate.is_dir() else data_dir
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise DemoDataError(f"demo inputs missing in {folder}: {', '.join(missing)}")
    return folder


def read_layer(path: Path) -> gpd.GeoDataFrame:
    """Read a vector file, insist on a declared CRS and project it to EPSG:32650."""
    frame = gpd.read_file(path)
    if frame.crs is None:
        raise DemoDataError(f"{path.name} declares no CRS")
    return frame.to_crs(METRIC_CRS)


def read_census(path: Path) -> CensusFigures:
    """Pick the 2020 census residents of Wuchang and the persons-per-household figure."""
    figures = pd.read_csv(path, dtype={"admin_code": str})
    residents = figures[(figures.admin_code == DISTRICT_CODE) & (figures.metric == "常住人口")]
    per_household = figures[figures.metric == "平均每个家庭户人口"]
    census_rows = residents[residents.reference_date == "2020-11-01"]
    if census_rows.empty or per_household.empty:
        raise DemoDataError(f"{path.name} lacks the 2020 residents or persons per household")
    return CensusFigures(
        residents=int(census_rows.value.iloc[0]),
        persons_per_household=float(per_household.value.iloc[0]),
    )


def read_codes(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """NBS 2023 street (without the scenic-area unit) and community codes, as strings."""
    streets = pd.read_csv(folder / STREETS_CSV, dtype=str)
    streets = streets[streets.code != SCENIC_AREA_CODE].sort_values("code")
    communities = pd.read_csv(folder / COMMUNITIES_CSV, dtype=str)
    communities = communities[communities.streetCode.isin(streets.code)].sort_values("code")
    return streets.reset_index(drop=True), communities.reset_index(drop=True)


def read_seeds(path: Path) -> gpd.GeoDataFrame:
    """Hand-placed street seed points (lon/lat) projected to EPSG:32650."""
    seeds = pd.read_csv(path, dtype={"street_code": str})
    points = gpd.points_from_xy(seeds.lon, seeds.lat, crs=OUTPUT_CRS)
    return gpd.GeoDataFrame(seeds, geometry=points).to_crs(METRIC_CRS)


def load_sources(data_dir: Path) -> DemoSources:
    """Load every shipped input; raise DemoDataError naming what is missing."""
    folder = resolve_data_dir(data_dir)
    district = read_layer(folder / DISTRICT_FILE)
    street_codes, community_codes = read_codes(folder)
    seeds = read_seeds(folder / SEEDS_CSV)
    unknown = set(seeds.street_code) ^ set(street_codes.code)
    if unknown:
        raise DemoDataError(f"street seeds and NBS street codes differ: {sorted(unknown)}")
    buildings = read_layer(folder / OSM_BUILDINGS_FILE)
    buildings["osm_way_id"] = buildings["osm_way_id"].astype("int64")
    return DemoSources(
        district=shapely.make_valid(shapely.union_all(district.geometry.values)),
        whroad=read_layer(folder / WHROAD_FILE),
        osm_roads=read_layer(folder / OSM_ROADS_FILE),
        osm_buildings=buildings.sort_values("osm_way_id").reset_index(drop=True),
        street_codes=street_codes,
        community_codes=community_codes,
        census=read_census(folder / FIGURES_CSV),
        water_outlines=read_layer(folder / WATER_FILE),
        parkland=read_layer(folder / PARKLAND_FILE),
        street_seeds=seeds,
    )

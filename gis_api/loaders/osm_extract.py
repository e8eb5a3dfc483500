"""The polygon layers of one OSM extract (.osm / .osm.pbf): buildings, water and parks.

GDAL's OSM driver assembles closed ways and multipolygon relations into the `multipolygons`
layer; tags without a column of their own arrive in `other_tags` ("k"=>"v" pairs), which is
where building:levels, water=* and waterway=* live. Each feature keeps its OSM identity as
`id` ("w123" for a way, "r456" for a relation), the key its rows are upserted by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_api.loaders.columns import as_text
from gis_api.loaders.readers import read_features

WATER_NATURAL = frozenset({"water", "bay"})
WATER_LANDUSE = frozenset({"reservoir", "basin"})
WATER_WATERWAY = frozenset({"riverbank", "dock", "canal"})
PARK_LEISURE = frozenset({"park", "garden", "nature_reserve", "common", "dog_park"})
PARK_LANDUSE = frozenset({"grass", "recreation_ground", "village_green", "forest", "meadow"})
PARK_NATURAL = frozenset({"wood", "grassland", "scrub"})
DRIVE_CLASSES = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
     "living_street", "service", "road"}
)  # fmt: skip
"""highway=* values (links count as their road) of the drive network: every street a car or a
grid worker's e-bike takes, residential and service streets included."""
OTHER_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class OsmLayers:
    """EPSG:4326 polygons with id, name, kind (and levels for buildings), SOURCE_ROW kept."""

    buildings: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame


def read_osm_polygons(path: Path) -> OsmLayers:
    """Buildings, water and parks of an OSM extract (see the module docstring)."""
    polygons = read_features(path, layer="multipolygons")
    tags = [
        other_tags(value) for value in as_text(polygons.get("other_tags", pd.Series([""] * len(polygons))))
    ]
    column = {name: _values(polygons, name) for name in ("building", "landuse", "leisure", "natural")}
    waterway = np.array([tag.get("waterway", "") for tag in tags], dtype=object)
    water_tag = np.array([tag.get("water", "") for tag in tags], dtype=object)
    frame = polygons.assign(
        id=_osm_ids(polygons),
        name=_values(polygons, "name"),
        levels=[tag.get("building:levels", "") for tag in tags],
    )
    is_building = (column["building"] != "") & (column["building"] != "no")
    is_water = (
        np.isin(column["natural"], list(WATER_NATURAL))
        | np.isin(column["landuse"], list(WATER_LANDUSE))
        | np.isin(waterway, list(WATER_WATERWAY))
    ) & ~is_building
    is_park = (
        (
            np.isin(column["leisure"], list(PARK_LEISURE))
            | np.isin(column["landuse"], list(PARK_LANDUSE))
            | np.isin(column["natural"], list(PARK_NATURAL))
        )
        & ~is_building
        & ~is_water
    )
    water_kind = _first_nonempty(water_tag, waterway, column["landuse"], column["natural"])
    park_kind = _first_nonempty(column["leisure"], column["landuse"], column["natural"])
    return OsmLayers(
        buildings=_subset(frame.assign(kind=column["building"]), is_building),
        water=_subset(frame.assign(kind=water_kind), is_water),
        parks=_subset(frame.assign(kind=park_kind), is_park),
    )


def other_tags(text: str) -> dict[str, str]:
    """GDAL's other_tags ("k"=>"v","k2"=>"v2") as a dict."""
    return {key: value.replace('\\"', '"') for key, value in OTHER_TAG.findall(text or "")}


def is_drive_road(value: object) -> bool:
    """Whether an OSM highway value (or osmnx's list of them) belongs to the drive network."""
    if isinstance(value, list | tuple | np.ndarray):
        return any(is_drive_road(item) for item in value)
    return str(value).strip().lower().removesuffix("_link") in DRIVE_CLASSES


def _values(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return np.asarray(
        as_text(frame[column]).str.strip().str.lower() if column != "name" else as_text(frame[column])
    )


def _osm_ids(frame: pd.DataFrame) -> list[str]:
    """w<way id> for closed ways, r<relation id> for multipolygon relations."""
    ways = as_text(frame["osm_way_id"]) if "osm_way_id" in frame else pd.Series([""] * len(frame))
    relations = as_text(frame["osm_id"]) if "osm_id" in frame else pd.Series([""] * len(frame))
    return [f"w{way}" if way else f"r{relation}" for way, relation in zip(ways, relations, strict=True)]


def _first_nonempty(*columns: np.ndarray) -> np.ndarray:
    result = np.full(len(columns[0]), "", dtype=object)
    for values in columns:
        result = np.where(result == "", values, result)
    return result


def _subset(frame: gpd.GeoDataFrame, mask: np.ndarray) -> gpd.GeoDataFrame:
    kept = frame[np.asarray(mask, dtype=bool)].reset_index(drop=True)
    kept.attrs.update(frame.attrs)
    return kept[["id", "name", "kind", "levels", "source_row", "geometry"]]

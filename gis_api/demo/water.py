"""Synthetic-approximate water layer: the Yangtze strip and the lakes inside the outline.

No water polygons exist in the shared data, so the shapes come from hand-drawn outlines
(data/wuchang/water_outlines.geojson) traced along shore roads and building edges; every
OSM building is then cut out with a margin so that nobody is ever placed in water.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# Building margin cut out of hand-drawn water, so footprints never touch water.
BUILDING_MARGIN_M = 8.0
# Shards of water smaller than this after the cut-out are dropped.
MIN_WATER_PART_M2 = 2_000.0
FAR_M = 20_000.0


def river_side_polygon(bank_line: BaseGeometry) -> BaseGeometry:
    """Close the bank line (drawn south to north) around its west side, i.e. the river."""
    coords = np.asarray(bank_line.coords)
    start, end = coords[0], coords[-1]
    closing = [
        (end[0], end[1] + FAR_M),
        (start[0] - FAR_M, end[1] + FAR_M),
        (start[0] - FAR_M, start[1] - FAR_M),
        (start[0], start[1] - FAR_M),
    ]
    return shapely.make_valid(shapely.Polygon([*map(tuple, coords), *closing]))


def drop_small_parts(geometry: BaseGeometry, min_area: float) -> BaseGeometry:
    """Keep polygon parts of at least min_area square metres."""
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
    kept = [p for p in parts if p.area >= min_area]
    return shapely.MultiPolygon(kept) if kept else shapely.MultiPolygon()


def build_water(
    outlines: gpd.GeoDataFrame, district: BaseGeometry, buildings: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Water polygons (EPSG:32650) inside the district with OSM buildings cut out."""
    built = shapely.union_all(shapely.buffer(buildings.geometry.values, BUILDING_MARGIN_M))
    rows = []
    for row in outlines.itertuples():
        shape = river_side_polygon(row.geometry) if row.role == "bank_line" else row.geometry
        water = shapely.difference(shapely.intersection(shape, district), built)
        water = drop_small_parts(shapely.make_valid(water), MIN_WATER_PART_M2)
        if not water.is_empty:
            rows.append({"name": row.name, "kind": row.kind, "geometry": water})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=outlines.crs)

"""Synthetic 街道 polygons that tile the district and follow main roads.

The OSM-derived main roads cut the district into road-bounded blocks; each block goes to the
street of the nearest hand-placed seed (data/wuchang/street_seeds.csv, anchored on real
landmarks). Blocks that straddle two seeds' Voronoi cells (the river, the lakes, very large
blocks) are split along the cells, so boundaries follow roads wherever roads exist.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis_api.loaders.validate import as_multipolygon

# A block whose largest seed-cell share is below this is split along the seed cells.
WHOLE_BLOCK_SHARE = 0.85
MIN_PIECE_M2 = 1.0


def road_blocks(district: BaseGeometry, roads: gpd.GeoSeries) -> np.ndarray:
    """Polygons formed by the district boundary and the road lines, tiling the district."""
    lines = shapely.intersection(roads.values, district)
    noded = shapely.union_all([*shapely.get_parts(lines), district.boundary])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(district, shapely.point_on_surface(faces))
    return faces[inside]


def seed_cells(seeds: gpd.GeoDataFrame, district: BaseGeometry) -> np.ndarray:
    """Voronoi cell of every seed, in seed order, clipped to the district."""
    points = shapely.MultiPoint(np.column_stack([seeds.geometry.x, seeds.geometry.y]))
    cells = shapely.voronoi_polygons(points, extend_to=district.envelope.buffer(1_000), ordered=True)
    return shapely.intersection(shapely.get_parts(cells), district)


def assign_block(
    block: BaseGeometry, cells: np.ndarray, labels: np.ndarray
) -> list[tuple[str, BaseGeometry]]:
    """Give a block whole to one street, or split it along the seed cells it straddles."""
    pieces = shapely.intersection(block, cells)
    areas = shapely.area(pieces)
    street_area = pd.Series(areas).groupby(labels).sum()
    if street_area.max() >= WHOLE_BLOCK_SHARE * block.area:
        return [(str(street_area.idxmax()), block)]
    keep = areas > MIN_PIECE_M2
    return list(zip(labels[keep].tolist(), pieces[keep].tolist(), strict=True))


# Street polygons are snapped to this grid (metres): unsnapped unions of many blocks carry
# near-degenerate edges on which GEOS overlays can silently return wrong results.
PRECISION_M = 0.001


def absorb_exclaves(streets: list[shapely.MultiPolygon]) -> list[shapely.MultiPolygon]:
    """Give each street's detached small parts to the neighbour sharing most boundary with them.

    Block splitting can leave slivers of a street cut off from its main part; a street must be
    contiguous for the optimiser, so they join the street that surrounds them."""
    extra: list[list[BaseGeometry]] = [[] for _ in streets]
    kept: list[BaseGeometry] = []
    for index, street in enumerate(streets):
        parts = sorted(shapely.get_parts(street), key=lambda part: part.area, reverse=True)
        kept.append(parts[0])
        for part in parts[1:]:
            shared = [
                shapely.length(shapely.intersection(part.boundary, other.boundary))
                if other_index != index
                else -1.0
                for other_index, other in enumerate(streets)
            ]
            extra[int(np.argmax(shared))].append(part)
    return [
        as_multipolygon(shapely.union_all([main, *pieces], grid_size=PRECISION_M))
        for main, pieces in zip(kept, extra, strict=True)
    ]


def build_streets(
    district: BaseGeometry,
    roads: gpd.GeoSeries,
    seeds: gpd.GeoDataFrame,
    street_codes: pd.DataFrame,
) -> gpd.GeoDataFrame:
    """Street polygons (EPSG:32650) with code and official name, tiling the district."""
    cells = seed_cells(seeds, district)
    labels = seeds.street_code.to_numpy()
    pieces: dict[str, list[BaseGeometry]] = {code: [] for code in street_codes.code}
    for block in road_blocks(district, roads):
        for code, piece in assign_block(block, cells, labels):
            pieces[code].append(piece)
    geometries = absorb_exclaves(
        [
            as_multipolygon(shapely.union_all(pieces[code], grid_size=PRECISION_M))
            for code in street_codes.code
        ]
    )
    return gpd.GeoDataFrame(
        {"code": street_codes.code.tolist(), "name": street_codes.name.tolist()},
        geometry=geometries,
        crs=seeds.crs,
    )

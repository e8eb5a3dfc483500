"""Unit polygons: Voronoi cells of buildings clipped to street blocks, tiling the parent without gaps.

All inputs must share one projected CRS (metres). Blocks come from polygonising the roads inside
the parent, so unit boundaries follow roads; empty blocks and stray cell fragments merge into the
neighbouring unit they share most boundary with.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from boundaries.errors import InputError
from boundaries.graph import graph_from_polygons
from boundaries.hierarchy import GridUnits
from boundaries.pieces import split_units

ObjectArray = NDArray[np.object_]
PRECISION_M = 0.001
# Pieces below this area (m2) are slivers from noding and are merged away.
SLIVER_M2 = 1.0


def street_blocks(parent: shapely.Geometry, roads: gpd.GeoSeries | ObjectArray) -> ObjectArray:
    """Faces formed by the roads inside `parent` and its edge; together they tile the parent."""
    lines = shapely.intersection(np.asarray(roads, dtype=object), parent)
    noded = shapely.union_all(np.append(lines, shapely.boundary(parent)), grid_size=PRECISION_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.within(shapely.point_on_surface(faces), parent)
    return np.asarray(faces[inside & (shapely.area(faces) > 0)], dtype=object)


def tessellate(
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | gpd.GeoSeries,
    parent: shapely.Geometry,
    *,
    id_column: str = "id",
    households_column: str = "households",
    empty_blocks: str = "merge",
) -> gpd.GeoDataFrame:
    """One unit per building (columns unit_id, building_id, households, block, geometry) tiling `parent`.

    empty_blocks="merge" joins blocks without buildings to a neighbouring unit;
    "keep" makes them units with no building and 0 households.
    """
    _check_inputs(buildings, roads, id_column, households_column, empty_blocks)
    points = _building_points(buildings)
    blocks = street_blocks(parent, np.asarray(roads.geometry, dtype=object))
    block_of = _block_of_points(points, blocks, buildings[id_column])
    cells = _cells(points, blocks, block_of)
    faces = _faces(cells, blocks, parent)
    geoms, pieces = _assemble(faces, _face_owner(faces, cells), points)
    units = gpd.GeoDataFrame(
        {
            "building_id": buildings[id_column].to_numpy(),
            "households": buildings[households_column].to_numpy().astype(np.int64),
            "block": block_of,
        },
        geometry=list(geoms),
        crs=buildings.crs,
    )
    units = _absorb(units, np.asarray(pieces, dtype=object), keep=empty_blocks == "keep")
    units.insert(0, "unit_id", np.arange(len(units), dtype=np.int64))
    return units


def _check_inputs(
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | gpd.GeoSeries,
    id_column: str,
    households_column: str,
    empty_blocks: str,
) -> None:
    """Columns present, CRS projected and shared, options known."""
    for column in (id_column, households_column):
        if column not in buildings.columns:
            raise InputError(f"buildings lack the column {column!r}")
    if buildings.crs is None or not buildings.crs.is_projected:
        raise InputError("buildings must be in a projected CRS (metres), e.g. EPSG:32650")
    if roads.crs != buildings.crs:
        raise InputError(f"roads CRS {roads.crs} differs from buildings CRS {buildings.crs}")
    if empty_blocks not in ("merge", "keep"):
        raise InputError(f"empty_blocks must be 'merge' or 'keep', not {empty_blocks!r}")
    if (buildings[households_column] < 0).any():
        raise InputError("households must be non-negative")


def _building_points(buildings: gpd.GeoDataFrame) -> ObjectArray:
    """A point inside each building, nudged apart where two coincide (Voronoi needs distinct sites)."""
    points = shapely.point_on_surface(np.asarray(buildings.geometry, dtype=object))
    xy = shapely.get_coordinates(points)
    rounded = pd.DataFrame(np.round(xy, 3))
    repeat = rounded.groupby([0, 1]).cumcount().to_numpy()
    xy = xy + np.stack([repeat * 0.05, repeat * 0.03], axis=1)
    return np.asarray(shapely.points(xy), dtype=object)


def _block_of_points(points: ObjectArray, blocks: ObjectArray, ids: pd.Series) -> NDArray[np.int64]:
    """Block index of each building point (points on a road go to the first touching block)."""
    tree = shapely.STRtree(blocks)
    point_idx, block_idx = tree.query(points, predicate="intersects")
    block_of = np.full(points.shape[0], -1, dtype=np.int64)
    block_of[point_idx[::-1]] = block_idx[::-1]
    outside = np.flatnonzero(block_of < 0)
    if outside.size:
        raise InputError(f"building {ids.iloc[int(outside[0])]!r} lies outside the parent area")
    return block_of


def _cells(points: ObjectArray, blocks: ObjectArray, block_of: NDArray[np.int64]) -> ObjectArray:
    """Voronoi cell of each building clipped to its block (may be multi-part in odd-shaped blocks)."""
    cells = np.empty(points.shape[0], dtype=object)
    for block in np.unique(block_of).tolist():
        members = np.flatnonzero(block_of == block)
        cells[members] = _block_cells(points[members], blocks[block])
    return cells


def _block_cells(points: ObjectArray, block: shapely.Geometry) -> list[shapely.Geometry]:
    """Voronoi cells of the points, clipped to the block, in point order."""
    if points.shape[0] == 1:
        return [block]
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=block))
    owner = shapely.STRtree(regions).query(points, predicate="within")
    region_of = np.full(points.shape[0], -1, dtype=np.int64)
    region_of[owner[0]] = owner[1]
    return list(shapely.intersection(regions[region_of], block))


def _faces(cells: ObjectArray, blocks: ObjectArray, parent: shapely.Geometry) -> ObjectArray:
    """Faces of the noded cell and block edges: an exact coverage, so neighbours share identical edges."""
    rims = np.concatenate([shapely.boundary(cells), shapely.boundary(blocks)])
    noded = shapely.union_all(rims, grid_size=PRECISION_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.within(shapely.point_on_surface(faces), parent) & (shapely.area(faces) > 0)
    return np.asarray(faces[inside], dtype=object)


def _face_owner(faces: ObjectArray, cells: ObjectArray) -> NDArray[np.int64]:
    """Building whose cell holds each face (-1: empty block or sliver)."""
    hits = shapely.STRtree(cells).query(shapely.point_on_surface(faces), predicate="intersects")
    owner = np.full(faces.shape[0], -1, dtype=np.int64)
    owner[hits[0][::-1]] = hits[1][::-1]
    return owner


def _assemble(
    faces: ObjectArray, owner: NDArray[np.int64], points: ObjectArray
) -> tuple[ObjectArray, list[shapely.Geometry]]:
    """Unit polygon per building (the part holding it) and the pieces left to merge elsewhere."""
    geoms = np.empty(points.shape[0], dtype=object)
    pieces = list(faces[owner < 0])
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(points.shape[0] + 1))
    for unit in range(points.shape[0]):
        members = faces[order[bounds[unit] : bounds[unit + 1]]]
        if members.size == 0:
            raise InputError(f"building {unit} got no area: its point lies on a block edge")
        merged = _coverage_union(list(members))
        geoms[unit], rest = _split_main(merged, points[unit])
        pieces.extend(rest)
    return geoms, pieces


def _coverage_union(parts: list[shapely.Geometry]) -> shapely.Geometry:
    """Union of polygons that share exact edges; snapped overlay union if they do not."""
    try:
        return shapely.coverage_union_all(np.asarray(parts, dtype=object))
    except shapely.errors.GEOSException:
        return shapely.union_all(parts, grid_size=PRECISION_M)


def _split_main(
    cell: shapely.Geometry, point: shapely.Geometry
) -> tuple[shapely.Geometry, list[shapely.Geometry]]:
    """The cell part holding the building point, and the other parts (to merge elsewhere)."""
    parts = [p for p in shapely.get_parts(cell) if shapely.get_type_id(p) == 3]
    if len(parts) <= 1:
        return (parts[0] if parts else cell), []
    distance = shapely.distance(np.asarray(parts, dtype=object), point)
    main = int(np.argmin(distance))
    return parts[main], [p for i, p in enumerate(parts) if i != main]


def _absorb(units: gpd.GeoDataFrame, pieces: ObjectArray, keep: bool) -> gpd.GeoDataFrame:
    """Merge pieces into the unit sharing most boundary; kept empty blocks become 0-household units."""
    slivers = [p for p in pieces if p.area < SLIVER_M2] if keep else list(pieces)
    units = _append_empty(units, [p for p in pieces if p.area >= SLIVER_M2]) if keep else units
    geoms = np.array(units.geometry, dtype=object)
    pending = slivers
    while pending:
        tree = shapely.STRtree(geoms)
        remaining = []
        for piece in pending:
            host = _best_host(tree, geoms, piece)
            if host < 0:
                remaining.append(piece)
            else:
                geoms[host] = _coverage_union([geoms[host], piece])
        if len(remaining) == len(pending):
            units = _append_empty(gpd.GeoDataFrame(units, geometry=geoms, crs=units.crs), remaining)
            geoms = np.array(units.geometry, dtype=object)
            break
        pending = remaining
    return gpd.GeoDataFrame(units.drop(columns="geometry"), geometry=list(geoms), crs=units.crs)


def _best_host(tree: shapely.STRtree, geoms: ObjectArray, piece: shapely.Geometry) -> int:
    """Index of the unit sharing the longest boundary with `piece`, or -1 if none touches it."""
    near = tree.query(piece, predicate="intersects")
    if near.size == 0:
        return -1
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[near]), shapely.boundary(piece)))
    if shared.max() <= 0:
        return -1
    return int(near[int(np.argmax(shared))])


def _append_empty(units: gpd.GeoDataFrame, pieces: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    """Add pieces as units without a building and with 0 households."""
    if not pieces:
        return units
    extra = gpd.GeoDataFrame(
        {"building_id": [None] * len(pieces), "households": 0, "block": -1}, geometry=pieces, crs=units.crs
    )
    return gpd.GeoDataFrame(pd.concat([units, extra], ignore_index=True), crs=units.crs)


def holding_units(
    geoms: ArrayLike, xy: NDArray[np.float64], home: ArrayLike, eligible: ArrayLike | None = None
) -> NDArray[np.int64]:
    """The unit whose polygon holds each point: its `home` unit where that covers the point, else
    the lowest-numbered `eligible` unit that does, else `home` (a point outside every unit).

    A household belongs to the grid around its point, so a household with a point of its own is
    counted in the unit holding that point, not in its building's: a long footprint reaches past
    its building's cell (cells are drawn around building points) and sometimes over a road, and
    its households there would otherwise be planned in one grid and stored in another."""
    units = np.asarray(geoms, dtype=object)
    held = np.asarray(home, dtype=np.int64).copy()
    if held.size == 0:
        return held
    shapely.prepare(units)
    away = np.flatnonzero(~shapely.intersects_xy(units[held], xy[:, 0], xy[:, 1]))
    if away.size == 0:
        return held
    allowed = np.arange(units.shape[0]) if eligible is None else np.flatnonzero(np.asarray(eligible, bool))
    found, unit = shapely.STRtree(units[allowed]).query(shapely.points(xy[away]), predicate="intersects")
    unit = allowed[unit]
    order = np.lexsort((unit, found))  # per point, the lowest unit first (a point on a shared edge)
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = found[order][1:] != found[order][:-1]
    held[away[found[order][first]]] = unit[order][first]
    return held


def split_heavy_units(units: gpd.GeoDataFrame, max_households: int) -> gpd.GeoDataFrame:
    """Grid-level units: a unit above `max_households` is cut by household order (see boundaries.pieces).

    Columns: unit_id, parent_unit, household_start, households, geometry; the pieces' areas are
    proportional to their households.
    """
    pieces = split_units(units.geometry.to_numpy(), units["households"].to_numpy(), max_households)
    out = gpd.GeoDataFrame(
        {"parent_unit": pieces.parent, "household_start": pieces.start, "households": pieces.households},
        geometry=list(pieces.geometry),
        crs=units.crs,
    )
    out.insert(0, "unit_id", np.arange(len(out), dtype=np.int64))
    return out


def grid_level_units(
    units: gpd.GeoDataFrame, max_households: int, barriers: shapely.Geometry | None = None
) -> tuple[gpd.GeoDataFrame, GridUnits]:
    """Split heavy units and build the grid-level graph; pass the GridUnits to partition_hierarchy."""
    split = split_heavy_units(units, max_households)
    graph = graph_from_polygons(np.asarray(split.geometry, dtype=object), barriers)
    return split, GridUnits(
        graph=graph, households=split["households"].to_numpy(), parent=split["parent_unit"].to_numpy()
    )

"""Dissolve unit polygons into district polygons and check validity, coverage and nesting."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from boundaries.errors import InputError

ObjectArray = NDArray[np.object_]


def dissolve(
    unit_polygons: ArrayLike, assignment: ArrayLike, k: int | None = None, grid_size: float = 0.001
) -> ObjectArray:
    """One valid polygon per district (index = district label), snapped to `grid_size` metres."""
    geoms = np.asarray(unit_polygons, dtype=object)
    labels = np.asarray(assignment, dtype=np.int64)
    if geoms.shape != labels.shape:
        raise InputError("unit polygons and assignment differ in length")
    count = int(labels.max()) + 1 if k is None else k
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    out = np.empty(count, dtype=object)
    for district in range(count):
        members = geoms[order[bounds[district] : bounds[district + 1]]]
        out[district] = _union(members, grid_size)
    return out


def _union(members: ObjectArray, grid_size: float) -> shapely.Geometry:
    """Fast coverage union; falls back to a snapped overlay union when the units are not a clean coverage."""
    try:
        merged = shapely.coverage_union_all(members)
    except shapely.errors.GEOSException:
        return _clean(shapely.union_all(members, grid_size=grid_size))
    area = float(shapely.area(members).sum())
    clean_fit = abs(merged.area - area) <= 1e-6 * max(area, 1.0) and not _has_pinholes(merged)
    if shapely.is_valid(merged) and clean_fit:
        return _clean(merged)
    return _clean(shapely.union_all(members, grid_size=grid_size))


def _has_pinholes(geom: shapely.Geometry, max_area_m2: float = 1.0) -> bool:
    """True if the union has tiny holes, the mark of units that do not quite meet."""
    for part in shapely.get_parts(geom):
        for index in range(shapely.get_num_interior_rings(part)):
            if shapely.polygons(shapely.get_interior_ring(part, index)).area < max_area_m2:
                return True
    return False


def _clean(geom: shapely.Geometry) -> shapely.Geometry:
    """Valid polygonal geometry without zero-area leftovers."""
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3 and p.area > 0]
    return shapely.multipolygons(parts) if len(parts) > 1 else (parts[0] if parts else shapely.Polygon())


def coverage_problems(
    parent: shapely.Geometry, districts: ArrayLike, area_tolerance_m2: float = 1.0, snap_m: float = 0.001
) -> list[str]:
    """Problems with a district set inside its parent: invalid, empty, overlapping, gaps, outside.

    Gaps and spill along the parent's edge are allowed up to `snap_m` times its perimeter, the
    most that snapping unit edges to a `snap_m` grid can shift.
    """
    geoms = np.asarray(districts, dtype=object)
    problems = [f"district {i} is invalid" for i in np.flatnonzero(~shapely.is_valid(geoms))]
    problems += [f"district {i} is empty" for i in np.flatnonzero(shapely.is_empty(geoms))]
    union = shapely.union_all(geoms)
    edge_band = area_tolerance_m2 + snap_m * float(shapely.length(parent))
    checks = (
        ("overlap", float(shapely.area(geoms).sum() - union.area), area_tolerance_m2),
        ("gap", float(shapely.difference(parent, union).area), edge_band),
        ("outside the parent", float(shapely.difference(union, parent).area), edge_band),
    )
    problems += [f"{name}: {value:.1f} m2" for name, value, limit in checks if value > limit]
    return problems


def nesting_problems(
    children: ArrayLike, parents: ArrayLike, parent_of_child: ArrayLike, area_tolerance_m2: float = 1.0
) -> list[str]:
    """Children that stick out of their parent district by more than the tolerance."""
    child = np.asarray(children, dtype=object)
    parent = np.asarray(parents, dtype=object)[np.asarray(parent_of_child, dtype=np.int64)]
    outside = shapely.area(shapely.difference(child, parent))
    return [
        f"district {i} lies {outside[i]:.1f} m2 outside its parent"
        for i in np.flatnonzero(outside > area_tolerance_m2)
    ]

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
        out[district] = _clean(shapely.union_all(members, grid_size=grid_size))
    return out


def _clean(geom: shapely.Geometry) -> shapely.Geometry:
    """Valid polygonal geometry without zero-area leftovers."""
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3 and p.area > 0]
    return shapely.multipolygons(parts) if len(parts) > 1 else (parts[0] if parts else shapely.Polygon())


def coverage_problems(
    parent: shapely.Geometry, districts: ArrayLike, area_tolerance_m2: float = 1.0
) -> list[str]:
    """Problems with a district set inside its parent: invalid, empty, overlapping, gaps, outside."""
    geoms = np.asarray(districts, dtype=object)
    problems = [f"district {i} is invalid" for i in np.flatnonzero(~shapely.is_valid(geoms))]
    problems += [f"district {i} is empty" for i in np.flatnonzero(shapely.is_empty(geoms))]
    union = shapely.union_all(geoms)
    overlap = float(shapely.area(geoms).sum() - union.area)
    gap = float(shapely.difference(parent, union).area)
    outside = float(shapely.difference(union, parent).area)
    for name, value in (("overlap", overlap), ("gap", gap), ("outside the parent", outside)):
        if value > area_tolerance_m2:
            problems.append(f"{name}: {value:.1f} m2")
    return problems


def nesting_problems(
    children: ArrayLike, parents: ArrayLike, parent_of_child: ArrayLike, area_tolerance_m2: float = 1.0
) -> list[str]:
    """Children that stick out of their parent district by more than the tolerance."""
    child = np.asarray(children, dtype=object)
    parent = np.asarray(parents, dtype=object)[np.asarray(parent_of_child, dtype=np.int64)]
    outside = shapely.area(shapely.difference(child, parent))
    return [f"district {i} lies {outside[i]:.1f} m2 outside its parent" for i in np.flatnonzero(outside > area_tolerance_m2)]

"""Geometry checks before anything is written: repair what can be repaired, reject what cannot.

A polygon with a small self-intersection (a digitising loop, a doubled vertex) is repaired with
shapely.make_valid and reported. A repair that changes the area by more than `max_area_change`
(a bow-tie: its two lobes cancel in the shoelace area, the repair doubles it) or that leaves no
geometry of the expected kind means the shape's intent is unknown, so the feature is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry


class Labels(Protocol):
    """Anything that names the feature at a position (a list of str, FeatureLabels)."""

    def __getitem__(self, position: int, /) -> str: ...

    def __len__(self) -> int: ...


GeometryKind = Literal["polygon", "point", "line", "any"]
ALLOWED_TYPES: dict[GeometryKind, tuple[str, ...]] = {
    "polygon": ("Polygon", "MultiPolygon"),
    "point": ("Point",),
    "line": ("LineString", "MultiLineString"),
    "any": ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"),
}
DEFAULT_MAX_AREA_CHANGE = 0.01
"""A repair may change a polygon's area by at most 1 % before we refuse to guess its shape."""
DEFAULT_OUTSIDE_TOLERANCE_M = 30.0
"""Boundary disagreement allowed between sources (the OSM and Amap outlines differ by tens of m)."""
DEFAULT_MAX_OUTSIDE_SHARE = 0.02
"""A polygon or line may have at most 2 % of its area/length outside the buffered district."""


@dataclass
class RepairResult:
    """Geometries after repair (same index as the input), with what was repaired and rejected."""

    geometries: gpd.GeoSeries
    repaired: list[str] = field(default_factory=list)
    """One message per repaired feature: its label, GEOS's reason and the area change."""
    rejected: list[str] = field(default_factory=list)
    """One message per rejected feature: its label and why."""
    rejected_mask: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))


def repair_geometries(
    geometries: gpd.GeoSeries,
    labels: Labels,
    *,
    kind: GeometryKind,
    max_area_change: float = DEFAULT_MAX_AREA_CHANGE,
) -> RepairResult:
    """Check type and validity of every geometry; make_valid the invalid ones within tolerance."""
    values = np.asarray(geometries.values, dtype=object)
    result = RepairResult(geometries.copy(), rejected_mask=np.zeros(len(values), dtype=bool))
    valid = shapely.is_valid(values)
    for position, geometry in enumerate(values):
        problem = _type_problem(geometry, kind)
        if problem is None and valid[position]:
            continue
        if problem is None:
            repaired, problem = _repair(geometry, kind, max_area_change)
            if repaired is not None:
                result.geometries.iloc[position] = repaired
                reason = shapely.is_valid_reason(geometry)
                change = _area_change(geometry, repaired)
                result.repaired.append(f"{labels[position]}: repaired {reason} (area change {change:.2%})")
                continue
        result.rejected.append(f"{labels[position]}: {problem}")
        result.rejected_mask[position] = True
    return result


def as_multipolygon(geometry: BaseGeometry) -> shapely.MultiPolygon:
    """Valid MultiPolygon made of the polygonal parts of a geometry (repairs, unions and
    reprojection can leave an invalid or mixed result)."""
    parts = shapely.get_parts(shapely.make_valid(geometry))
    polygons = [p for part in parts for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons)


def to_multipolygons(geometries: gpd.GeoSeries) -> gpd.GeoSeries:
    """Promote Polygons to MultiPolygons: the boundary tables store MultiPolygon only."""
    values = np.asarray(geometries.values, dtype=object)
    promoted = [
        shapely.MultiPolygon([geometry]) if geometry.geom_type == "Polygon" else geometry
        for geometry in values
    ]
    return gpd.GeoSeries(promoted, index=geometries.index, crs=geometries.crs)


def outside_district(
    geometries: gpd.GeoSeries,
    district: BaseGeometry,
    *,
    metric_crs: str,
    tolerance_m: float = DEFAULT_OUTSIDE_TOLERANCE_M,
    max_outside_share: float = DEFAULT_MAX_OUTSIDE_SHARE,
) -> NDArray[np.bool_]:
    """True for features that stick out of the district (buffered by tolerance_m) too far.

    Points must lie inside the buffered outline; polygons and lines may have at most
    max_outside_share of their area or length outside it. Both inputs are EPSG:4326; the buffer
    and shares are computed in metric_crs, and only features not wholly covered are projected
    (households files have ~10^5 points).
    """
    outline = gpd.GeoSeries([district], crs="EPSG:4326").to_crs(metric_crs)
    allowed_metric = outline.buffer(tolerance_m)
    allowed = allowed_metric.to_crs("EPSG:4326").iloc[0]
    shapely.prepare(allowed)
    outside = ~shapely.covers(allowed, np.asarray(geometries.values, dtype=object))
    candidates = np.flatnonzero(outside & ~geometries.geom_type.isin(["Point", "MultiPoint"]).to_numpy())
    if candidates.size:
        projected = geometries.iloc[candidates].to_crs(metric_crs).values
        shares = [_outside_share(geometry, allowed_metric.iloc[0]) for geometry in projected]
        outside[candidates] = np.asarray(shares) > max_outside_share
    return np.asarray(outside, dtype=bool)


def _outside_share(geometry: BaseGeometry, allowed: BaseGeometry) -> float:
    """Share of a geometry's area (or length) outside `allowed`; points are all-or-nothing."""
    if geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.area > 0:
        return float(geometry.difference(allowed).area / geometry.area)
    if geometry.geom_type in ("LineString", "MultiLineString") and geometry.length > 0:
        return float(geometry.difference(allowed).length / geometry.length)
    return 1.0


def _type_problem(geometry: BaseGeometry | None, kind: GeometryKind) -> str | None:
    if geometry is None:
        return "has no geometry"
    if geometry.is_empty:
        return "has an empty geometry"
    if geometry.geom_type not in ALLOWED_TYPES[kind]:
        return f"is a {geometry.geom_type}, expected {' or '.join(ALLOWED_TYPES[kind])}"
    return None


def _repair(
    geometry: BaseGeometry, kind: GeometryKind, max_area_change: float
) -> tuple[BaseGeometry | None, str | None]:
    """make_valid, keep only the expected kind of parts, and refuse repairs that change the shape."""
    reason = shapely.is_valid_reason(geometry)
    repaired = _keep_kind(shapely.make_valid(geometry), kind)
    if repaired is None or repaired.is_empty:
        return None, f"invalid geometry ({reason}) that repair reduces to nothing"
    change = _area_change(geometry, repaired)
    if change > max_area_change:
        return None, (
            f"invalid geometry ({reason}) cannot be repaired: repair changes its area by "
            f"{change:.0%} (limit {max_area_change:.0%}); fix the ring order in the source"
        )
    return repaired, None


def _keep_kind(geometry: BaseGeometry, kind: GeometryKind) -> BaseGeometry | None:
    """Drop the parts of a repair that are of another dimension (e.g. collapsed slivers)."""
    if kind == "polygon":
        parts = [part for part in shapely.get_parts(geometry) if part.geom_type in ALLOWED_TYPES[kind]]
        polygons = [polygon for part in parts for polygon in shapely.get_parts(part)]
        return shapely.MultiPolygon(polygons) if polygons else None
    if kind == "line":
        lines = [part for part in shapely.get_parts(geometry) if part.geom_type == "LineString"]
        return shapely.MultiLineString(lines) if lines else None
    return geometry


def _area_change(original: BaseGeometry, repaired: BaseGeometry) -> float:
    """Relative area change of a repair in [0, 1]; 0 for points and lines."""
    before, after = abs(original.area), repaired.area
    largest = max(before, after)
    return float(abs(after - before) / largest) if largest > 0 else 0.0

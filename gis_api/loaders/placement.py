"""Where a building's counted households stand: spread along the footprint's long axis.

A register that gives a count per building (or per compound footprint) has no household points,
yet the optimiser reads household points: it counts them per building and, for a tower larger
than a grid, cuts the footprint across its long axis between consecutive households
(boundaries.pieces.split_units, by position). So the n households of a footprint are placed on the
footprint's long axis through its representative point, at the middles of n equal steps, in
household-id order: inside the footprint, in a stairwell-like order, and far enough apart that
every cut has a household on each side. A point "footprint" keeps all n at the point.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray


def spread_in_footprints(
    footprints: gpd.GeoSeries, counts: NDArray[np.int64], metric_crs: str
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """For EPSG:4326 footprints and household counts: (footprint position, lon, lat) per household,
    footprints in order and each footprint's households in order along its long axis."""
    metric = np.asarray(footprints.to_crs(metric_crs).values, dtype=object)
    owner = np.repeat(np.arange(len(metric)), counts)
    fractions = _step_middles(counts)
    axes = np.array([_axis_inside(shape) for shape in metric], dtype=object)
    points = shapely.line_interpolate_point(axes[owner], fractions, normalized=True)
    lonlat = gpd.GeoSeries(points, crs=metric_crs).to_crs("EPSG:4326")
    return owner.astype(np.int64), lonlat.x.to_numpy(), lonlat.y.to_numpy()


def _step_middles(counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """(k + 0.5) / n for k = 0..n-1 of every count n, concatenated."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(int(counts.sum())) - starts
    n = np.repeat(counts, counts)
    return np.asarray((k + 0.5) / np.maximum(n, 1), dtype=np.float64)


def _axis_inside(shape: shapely.Geometry) -> shapely.Geometry:
    """The part of the long axis through the representative point that lies inside the shape
    (a degenerate line at the point for points and slivers)."""
    anchor = shape.representative_point()
    if shape.geom_type not in ("Polygon", "MultiPolygon") or shape.area <= 0:
        return shapely.LineString([anchor, anchor])
    corners = np.asarray(shapely.minimum_rotated_rectangle(shape).exterior.coords)[:3]
    sides = np.diff(corners, axis=0)
    longest = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    length = float(np.hypot(*longest))
    if length <= 0:
        return shapely.LineString([anchor, anchor])
    along = longest / length
    origin = np.asarray(anchor.coords[0])
    axis = shapely.LineString([origin - along * length * 2, origin + along * length * 2])
    inside = shapely.intersection(axis, shape)
    pieces = [part for part in shapely.get_parts(inside) if part.geom_type == "LineString" and part.length]
    if not pieces:
        return shapely.LineString([anchor, anchor])
    return shapely.MultiLineString(pieces) if len(pieces) > 1 else pieces[0]

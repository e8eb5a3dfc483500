"""A worker's ride along a road route: positions at any distance travelled, by linear interpolation.

Distances are geodesic (WGS 84 ellipsoid), so a route needs no district's projected CRS: a ride
across two districts, or in any UTM zone, is measured the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


class RoutePath:
    """A lon/lat polyline measured in metres along the ellipsoid so positions can be taken along it."""

    def __init__(self, lonlat: Sequence[Sequence[float]]) -> None:
        points = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        if len(points) == 0:
            raise ValueError("a route path needs at least one point")
        self.lonlat: NDArray[np.float64] = points
        steps = (
            np.asarray(GEOD.inv(points[:-1, 0], points[:-1, 1], points[1:, 0], points[1:, 1])[2])
            if len(points) > 1
            else np.zeros(0)
        )
        self.cumulative_m: NDArray[np.float64] = np.concatenate([[0.0], np.cumsum(steps)])

    @property
    def length_m(self) -> float:
        return float(self.cumulative_m[-1])

    def lonlat_at(self, distance_m: float) -> tuple[float, float]:
        """The point `distance_m` along the path (clamped to its ends)."""
        along = min(max(distance_m, 0.0), self.length_m)
        lon = float(np.interp(along, self.cumulative_m, self.lonlat[:, 0]))
        lat = float(np.interp(along, self.cumulative_m, self.lonlat[:, 1]))
        return lon, lat


def offset_lonlat(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m` east and `north_m` north of (lon, lat), along the ellipsoid."""
    distance = float(np.hypot(east_m, north_m))
    if distance == 0:
        return lon, lat
    azimuth = float(np.degrees(np.arctan2(east_m, north_m)))
    new_lon, new_lat, _ = GEOD.fwd(lon, lat, azimuth, distance)
    return float(new_lon), float(new_lat)

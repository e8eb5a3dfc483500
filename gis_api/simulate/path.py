"""A worker's ride along a road route: positions at any distance travelled, by linear interpolation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer

from gis_api.routing.engine import METRIC_CRS

TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
TO_LONLAT = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


class RoutePath:
    """A lon/lat polyline measured in metres (EPSG:32650) so positions can be taken along it."""

    def __init__(self, lonlat: Sequence[Sequence[float]]) -> None:
        points = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        if len(points) == 0:
            raise ValueError("a route path needs at least one point")
        x, y = TO_METRIC.transform(points[:, 0], points[:, 1])
        self.xy: NDArray[np.float64] = np.column_stack([x, y])
        steps = np.hypot(*np.diff(self.xy, axis=0).T) if len(points) > 1 else np.zeros(0)
        self.cumulative_m: NDArray[np.float64] = np.concatenate([[0.0], np.cumsum(steps)])

    @property
    def length_m(self) -> float:
        return float(self.cumulative_m[-1])

    def lonlat_at(self, distance_m: float) -> tuple[float, float]:
        """The point `distance_m` along the path (clamped to its ends)."""
        along = min(max(distance_m, 0.0), self.length_m)
        x = float(np.interp(along, self.cumulative_m, self.xy[:, 0]))
        y = float(np.interp(along, self.cumulative_m, self.xy[:, 1]))
        lon, lat = TO_LONLAT.transform(x, y)
        return float(lon), float(lat)


def offset_lonlat(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """A point a few metres away (local flat approximation, fine within a city block)."""
    x, y = TO_METRIC.transform(lon, lat)
    new_lon, new_lat = TO_LONLAT.transform(x + east_m, y + north_m)
    return float(new_lon), float(new_lat)

"""China's offset datums: WGS-84 <-> GCJ-02 (Amap, Tencent) <-> BD-09 (Baidu), vectorised with numpy.

GCJ-02 is WGS-84 plus a smooth, deliberately undocumented offset (about 500 m around Wuhan); BD-09 adds
Baidu's own rotation/shift on top of GCJ-02. The forward formulas below are the widely published
reverse-engineered ones (the Krasovsky ellipsoid constants of the original leak); points outside
China's bounding box are returned unchanged, as every reference implementation does. The inverses
have no closed form, so they are solved by fixed-point iteration until the forward transform
reproduces the input to ~1e-10° (≈ 0.01 mm); round trips are therefore exact to well under 1 m.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Coordinates = tuple[NDArray[np.float64], NDArray[np.float64]]
ChineseDatum = Literal["wgs84", "gcj02", "bd09"]
Transform = Callable[[NDArray[np.float64], NDArray[np.float64]], Coordinates]

KRASOVSKY_A = 6378245.0
"""Semi-major axis used by the GCJ-02 obfuscation (Krasovsky 1940 ellipsoid)."""
KRASOVSKY_EE = 0.00669342162296594323
"""First eccentricity squared of the Krasovsky ellipsoid."""
BAIDU_FACTOR = np.pi * 3000.0 / 180.0
INVERSE_TOLERANCE_DEG = 1e-10
MAX_INVERSE_ITERATIONS = 30
# The rough China bounding box every reference implementation uses (eviltransform, gcoord).
CHINA_LON_RANGE = (72.004, 137.8347)
CHINA_LAT_RANGE = (0.8293, 55.8271)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies outside the bounding box in which GCJ-02 applies its offset."""
    lon_array, lat_array = _as_arrays(lon, lat)
    inside = (
        (lon_array >= CHINA_LON_RANGE[0])
        & (lon_array <= CHINA_LON_RANGE[1])
        & (lat_array >= CHINA_LAT_RANGE[0])
        & (lat_array <= CHINA_LAT_RANGE[1])
    )
    return np.asarray(~inside)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """Apply the GCJ-02 offset to WGS-84 lon/lat (degrees); points outside China are unchanged."""
    lon_array, lat_array = _as_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon_array, lat_array)
    outside = out_of_china(lon_array, lat_array)
    return (
        np.where(outside, lon_array, lon_array + dlon),
        np.where(outside, lat_array, lat_array + dlat),
    )


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """Remove the GCJ-02 offset by iterating wgs := wgs - (gcj02(wgs) - target) to convergence."""
    target_lon, target_lat = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, target_lon, target_lat, target_lon.copy(), target_lat.copy())


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """GCJ-02 -> BD-09 (Baidu's extra rotation and shift); applied everywhere, as Baidu does."""
    lon_array, lat_array = _as_arrays(lon, lat)
    radius = np.hypot(lon_array, lat_array) + 0.00002 * np.sin(lat_array * BAIDU_FACTOR)
    theta = np.arctan2(lat_array, lon_array) + 0.000003 * np.cos(lon_array * BAIDU_FACTOR)
    return radius * np.cos(theta) + 0.0065, radius * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """BD-09 -> GCJ-02: the published closed-form approximation, refined by iteration to be exact."""
    target_lon, target_lat = _as_arrays(lon, lat)
    x = target_lon - 0.0065
    y = target_lat - 0.006
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * BAIDU_FACTOR)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BAIDU_FACTOR)
    first_lon, first_lat = radius * np.cos(theta), radius * np.sin(theta)
    return _invert(gcj02_to_bd09, target_lon, target_lat, first_lon, first_lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """WGS-84 -> BD-09 through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """BD-09 -> WGS-84 through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(datum: ChineseDatum, lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """Convert lon/lat given in `datum` to WGS-84."""
    converters = {"wgs84": _as_arrays, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
    return converters[datum](lon, lat)


def from_wgs84(datum: ChineseDatum, lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    """Convert WGS-84 lon/lat to `datum` (used to build test data and to compare with Amap layers)."""
    converters = {"wgs84": _as_arrays, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}
    return converters[datum](lon, lat)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Coordinates:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _gcj02_offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coordinates:
    """The GCJ-02 offset in degrees at WGS-84 lon/lat (before the out-of-China test)."""
    x = lon - 105.0
    y = lat - 35.0
    shared = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += shared + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += shared + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radians = lat / 180.0 * np.pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(radians) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (KRASOVSKY_A / sqrt_magic * np.cos(radians) * np.pi)
    return dlon, dlat


def _invert(
    forward: Transform,
    target_lon: NDArray[np.float64],
    target_lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> Coordinates:
    """Solve forward(lon, lat) == target; the offsets vary slowly, so each step gains ~5 digits."""
    for _ in range(MAX_INVERSE_ITERATIONS):
        forward_lon, forward_lat = forward(lon, lat)
        error_lon = forward_lon - target_lon
        error_lat = forward_lat - target_lat
        lon = lon - error_lon
        lat = lat - error_lat
        if max(_max_abs(error_lon), _max_abs(error_lat)) < INVERSE_TOLERANCE_DEG:
            break
    return lon, lat


def _max_abs(values: NDArray[np.float64]) -> float:
    finite = values[np.isfinite(values)]
    return float(np.max(np.abs(finite), initial=0.0))

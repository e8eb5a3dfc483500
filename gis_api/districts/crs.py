"""The metric CRS of a district: chosen from its location, or given and checked.

Inside China the choice is CGCS2000 3-degree Gauss-Krüger (EPSG:4534..4554, central meridians
75°E..135°E): it is the national standard of China's surveying and cadastral data (GB/T 18314,
CGCS2000 since 2008), its 3° zones keep the scale error under about 1:7,000 (0.014 %) at a zone
edge where a 6° UTM zone reaches 1:2,500, and district planners' own files are usually in it. The
zone is the one whose central meridian is nearest the outline's centroid; a centroid exactly on a
zone edge (CM ± 1.5°) takes the western zone, as zone n covers (3n − 1.5°, 3n + 1.5°]. CGCS2000
and WGS 84 agree within centimetres, so WGS 84 coordinates go in unchanged. Outside China's
range the choice falls back to WGS 84 / UTM (EPSG:326zz north, 327zz south).

Every district row stores 'EPSG:n' and its family; an override may name any projected CRS in
metres ('custom' unless it is one of the two families).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pyproj import CRS
from pyproj.exceptions import CRSError

from gis_api.errors import InvalidInputError

Family = Literal["cgcs2000_gk3", "utm", "custom"]
GK3_FIRST_EPSG = 4534
"""EPSG:4534 is CGCS2000 / 3-degree Gauss-Kruger CM 75E; each next code is 3° further east."""
GK3_CENTRAL_MERIDIANS = range(75, 136, 3)
CHINA_LONGITUDES = (73.5, 136.5)
"""The span of the 21 CGCS2000 3° zones (CM 75°E − 1.5° .. CM 135°E + 1.5°)."""
CHINA_LATITUDES = (0.0, 56.0)
"""China's extent north-south, from the South China Sea islands (~3.8°N) to Mohe (~53.6°N)."""


@dataclass(frozen=True)
class MetricCrs:
    """A district's projected CRS: 'EPSG:n', its EPSG code and which family it belongs to."""

    epsg: int
    family: Family

    @property
    def name(self) -> str:
        return f"EPSG:{self.epsg}"

    def __str__(self) -> str:
        return f"{self.name} ({self.family})"


def in_china_range(lon: float, lat: float) -> bool:
    """True where a CGCS2000 3° Gauss-Krüger zone applies."""
    west, east = CHINA_LONGITUDES
    south, north = CHINA_LATITUDES
    return west <= lon <= east and south <= lat <= north


def gk3_central_meridian(lon: float) -> int:
    """Central meridian (a multiple of 3) of the 3° zone holding `lon`; an edge goes west."""
    return 3 * math.ceil((lon - 1.5) / 3)


def utm_epsg(lon: float, lat: float) -> int:
    """WGS 84 / UTM zone of a point: 326zz in the north, 327zz in the south."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def choose_metric_crs(lon: float, lat: float) -> MetricCrs:
    """The metric CRS for a district whose outline's centroid is (lon, lat) in WGS 84."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInputError(f"centroid ({lon}, {lat}) is not a lon/lat position")
    if in_china_range(lon, lat):
        meridian = gk3_central_meridian(lon)
        return MetricCrs(GK3_FIRST_EPSG + (meridian - 75) // 3, "cgcs2000_gk3")
    return MetricCrs(utm_epsg(lon, lat), "utm")


def family_of(epsg: int) -> Family:
    """Which family an EPSG code belongs to."""
    if GK3_FIRST_EPSG <= epsg < GK3_FIRST_EPSG + len(GK3_CENTRAL_MERIDIANS):
        return "cgcs2000_gk3"
    if 32601 <= epsg <= 32660 or 32701 <= epsg <= 32760:
        return "utm"
    return "custom"


def parse_metric_crs(text: str) -> MetricCrs:
    """Check an override such as 'EPSG:4547': a known projected CRS measured in metres."""
    authority, _, code = text.strip().upper().partition(":")
    if authority != "EPSG" or not code.isdigit() or not 4 <= len(code) <= 6:
        raise InvalidInputError(f"metric CRS {text!r} must be written EPSG:<code>, e.g. EPSG:4547")
    try:
        crs = CRS.from_epsg(int(code))
    except CRSError:
        raise InvalidInputError(f"metric CRS {text!r} is not a known EPSG code") from None
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        raise InvalidInputError(f"metric CRS {text!r} ({crs.name}) is not a projected CRS in metres")
    return MetricCrs(int(code), family_of(int(code)))

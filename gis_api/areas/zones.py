"""No-household zones: water and parks. Nobody lives there, and plans should not cut across them.

One owner for the rule, used by the loaders (households placed in a zone are rejected) and by the
optimiser (zone outlines are barriers). Parks count only from PARK_MIN_AREA_M2 up: OSM maps small
lawns (landuse=grass) inside residential compounds, and a compound's own lawn is neither a place
its register point cannot be nor a line its grid should follow. A point counts as inside a zone
only when it is more than INSIDE_TOLERANCE_M from the zone's edge: geocoded compound gates and
converted GCJ-02/BD-09 points are good to about 10 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

PARK_MIN_AREA_M2 = 10_000.0
INSIDE_TOLERANCE_M = 10.0

NEAR_DISTRICT = """ST_Intersects(geom, (SELECT ST_Transform(ST_Buffer(ST_Transform(d.geom, d.metric_srid),
    :buffer_m), 4326) FROM district d WHERE d.code = :district))"""
"""SQL: the row's geom lies within :buffer_m metres (in the district's metric CRS) of district
:district. Water and parks are selected this way, not by district_code: a river or a park along
an outline was loaded by one district and bounds both."""
ZONES_SQL = f"""
    SELECT 'water' AS layer, id, name, kind, geom FROM water WHERE {NEAR_DISTRICT}
    UNION ALL
    SELECT 'park' AS layer, id, name, kind, geom FROM park
    WHERE ST_Area(geom::geography) >= :min_park_m2 AND {NEAR_DISTRICT}
"""


def zones_sql() -> tuple[str, dict[str, float]]:
    """The query listing the no-household zones near a district (layer, id, name, kind, geom) and
    its parameters; the caller adds :district and :buffer_m."""
    return ZONES_SQL, {"min_park_m2": PARK_MIN_AREA_M2}


def read_zones(db: Connection | Session, district: str) -> gpd.GeoDataFrame:
    """The no-household zones touching district `district`, in EPSG:4326."""
    sql, params = zones_sql()
    connection = db.connection() if isinstance(db, Session) else db
    values = {**params, "district": district, "buffer_m": 0.0}
    return gpd.read_postgis(text(sql), connection, geom_col="geom", params=values, crs="EPSG:4326")


@dataclass(frozen=True)
class ZoneHits:
    """For each tested point: the index of the zone it lies in (-1 when none) and a label."""

    zone: NDArray[np.int64]
    labels: list[str]

    @property
    def inside(self) -> NDArray[np.bool_]:
        return np.asarray(self.zone >= 0)


def points_in_zones(points: gpd.GeoSeries, zones: gpd.GeoDataFrame, metric_crs: str) -> ZoneHits:
    """Which EPSG:4326 points lie more than INSIDE_TOLERANCE_M inside a zone."""
    zone_of = np.full(len(points), -1, dtype=np.int64)
    if zones.empty or points.empty:
        return ZoneHits(zone_of, [""] * len(zone_of))
    values = np.asarray(points.values, dtype=object)
    point_index, zone_index = shapely.STRtree(zones.geometry.values).query(values, predicate="within")
    if point_index.size:
        metric_points = gpd.GeoSeries(values[point_index], crs="EPSG:4326").to_crs(metric_crs).values
        metric_zones = zones.geometry.iloc[zone_index].to_crs(metric_crs).values
        depth = shapely.distance(metric_points, shapely.boundary(metric_zones))
        deep = depth > INSIDE_TOLERANCE_M
        zone_of[point_index[deep]] = zone_index[deep]
    labels = [_label(zones, int(index)) if index >= 0 else "" for index in zone_of]
    return ZoneHits(zone_of, labels)


def _label(zones: gpd.GeoDataFrame, index: int) -> str:
    row = zones.iloc[index]
    name = f" {row['name']!r}" if row["name"] else ""
    return f"inside {row['layer']}{name} ({row['kind']})"

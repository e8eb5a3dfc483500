"""Give unnamed, unclassified road lines the name and class of the OSM way they run along.

Used for the WHroad main-road file (geometry only) with the sparse OSM subset of the L7 demo
(osm_id, name, type = highway). A road line matches a reference way when at least half of its
length lies within `max_distance_m` of the way and the two run parallel (direction difference
under `max_angle_deg`, either way round); the best match is the one covering most of the line,
ties going to the more important class. Only motor-road classes are used as references:
sidewalks (footway) run parallel to main roads a few metres away and would otherwise win.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gis_api.roads.network import CLASS_RANK, normalise_class, normalise_name

MOTOR_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
    }
)
SAMPLES_PER_LINE = 11
"""Points at which a line's distance to a candidate way is measured (ends included)."""


@dataclass(frozen=True)
class MatchSummary:
    lines: int
    matched: int
    matched_km: float
    total_km: float

    def __str__(self) -> str:
        share = self.matched_km / self.total_km if self.total_km else 0.0
        return (
            f"{self.matched} of {self.lines} road lines matched to named OSM ways "
            f"({self.matched_km:.1f} of {self.total_km:.1f} km, {share:.0%})"
        )


def attach_osm_attributes(
    lines: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    max_distance_m: float = 15.0,
    max_angle_deg: float = 20.0,
    min_overlap: float = 0.5,
) -> tuple[gpd.GeoDataFrame, MatchSummary]:
    """Copy road_class and name from matching reference ways onto lines that lack them.

    lines and reference are EPSG:4326; the reference has a class column (road_class, highway
    or type) and name. Lines that already have a class keep it.
    """
    ways = _reference_ways(reference, metric_crs)
    targets = lines.explode(index_parts=False, ignore_index=True)
    metric = np.asarray(targets.to_crs(metric_crs).geometry.values, dtype=object)
    best = _best_matches(metric, ways, max_distance_m, max_angle_deg, min_overlap)
    result = targets.copy()
    for column in ("road_class", "name"):
        if column not in result.columns:
            result[column] = None
        current = np.array(result[column], dtype=object)
        missing = np.array([normalise_name(value) is None for value in current], dtype=bool)
        fill = missing & (best >= 0)
        current[fill] = ways[column].to_numpy(dtype=object)[best[fill]]
        result[column] = current
    lengths = shapely.length(metric)
    summary = MatchSummary(
        lines=len(result),
        matched=int((best >= 0).sum()),
        matched_km=float(lengths[best >= 0].sum() / 1000.0),
        total_km=float(lengths.sum() / 1000.0),
    )
    return result, summary


def _reference_ways(reference: gpd.GeoDataFrame, metric_crs: str) -> gpd.GeoDataFrame:
    class_column = next(
        (column for column in ("road_class", "highway", "type") if column in reference.columns), None
    )
    if class_column is None:
        raise ValueError("the reference roads have no road_class/highway/type column")
    ways = reference.explode(index_parts=False, ignore_index=True)
    ways = gpd.GeoDataFrame(
        {
            "road_class": [normalise_class(value) for value in ways[class_column]],
            "name": [normalise_name(value) for value in ways.get("name", pd.Series([None] * len(ways)))],
        },
        geometry=ways.geometry.values,
        crs=reference.crs,
    ).to_crs(metric_crs)
    keep = ways["road_class"].isin(MOTOR_CLASSES) & ways.geom_type.eq("LineString")
    return ways[keep].reset_index(drop=True)


def _best_matches(
    metric: NDArray[np.object_],
    ways: gpd.GeoDataFrame,
    max_distance_m: float,
    max_angle_deg: float,
    min_overlap: float,
) -> NDArray[np.int64]:
    """Index into `ways` of each line's match, -1 when none qualifies."""
    best = np.full(len(metric), -1, dtype=np.int64)
    if not len(ways) or not len(metric):
        return best
    way_geometries = np.asarray(ways.geometry.values, dtype=object)
    line_index, way_index = shapely.STRtree(way_geometries).query(
        metric, predicate="dwithin", distance=max_distance_m
    )
    if not len(line_index):
        return best
    overlap = _overlap(metric[line_index], way_geometries[way_index], max_distance_m)
    angle = _angle_between(metric[line_index], way_geometries[way_index])
    ranks = np.array([CLASS_RANK.get(str(value), 99) for value in ways["road_class"]])[way_index]
    candidates = pd.DataFrame({"line": line_index, "way": way_index, "overlap": overlap, "rank": ranks})
    good = candidates[(overlap >= min_overlap) & (angle <= max_angle_deg)]
    chosen = good.sort_values(["line", "overlap", "rank"], ascending=[True, False, True]).drop_duplicates(
        "line"
    )
    best[chosen["line"].to_numpy()] = chosen["way"].to_numpy()
    return best


def _overlap(
    lines: NDArray[np.object_], ways: NDArray[np.object_], max_distance_m: float
) -> NDArray[np.float64]:
    """Share of sample points along each line that lie within max_distance_m of its way."""
    fractions = np.linspace(0.0, 1.0, SAMPLES_PER_LINE)
    samples = shapely.line_interpolate_point(lines[:, None], fractions[None, :], normalized=True)
    near = shapely.distance(samples, ways[:, None]) <= max_distance_m
    return np.asarray(near.mean(axis=1), dtype=np.float64)


def _angle_between(lines: NDArray[np.object_], ways: NDArray[np.object_]) -> NDArray[np.float64]:
    """Undirected angle (0-90°) between each line's overall direction and its way's local one."""
    line_bearing = _bearing(shapely.get_point(lines, 0), shapely.get_point(lines, -1))
    middle = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    along = shapely.line_locate_point(ways, middle)
    way_length = shapely.length(ways)
    before = shapely.line_interpolate_point(ways, np.clip(along - 25.0, 0.0, way_length))
    after = shapely.line_interpolate_point(ways, np.clip(along + 25.0, 0.0, way_length))
    difference = np.abs(line_bearing - _bearing(before, after)) % 180.0
    return np.minimum(difference, 180.0 - difference)


def _bearing(start: NDArray[np.object_], end: NDArray[np.object_]) -> NDArray[np.float64]:
    dx = shapely.get_x(end) - shapely.get_x(start)
    dy = shapely.get_y(end) - shapely.get_y(start)
    return np.asarray(np.degrees(np.arctan2(dx, dy)), dtype=np.float64)

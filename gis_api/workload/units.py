"""Workload per optimiser unit (and per grid-level piece), for `wangge redistrict --balance`.

The same model as per grid (gis_api.workload.service), unit by unit: households × hours per
household-year, the period's cases by category (a case belongs to the unit whose cell holds it,
else the nearest cell within NEAREST_M: cases on the road between blocks), and the patrol shares
of the buildings in the unit. Pieces of a split building share its workload by households.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from sqlalchemy import Connection

from gis_api.cases.kpi import Period
from gis_api.routing.engine import RoadGraph
from gis_api.workload.patrol import tour_hours
from gis_api.workload.service import patrol_places, period_days, read_cases
from gis_api.workload.weights import WorkloadWeights

NEAREST_M = 300.0
"""Cases farther than this from every unit (outside the district's blocks) are left out."""


@dataclass(frozen=True)
class UnitWorkload:
    """Hours over the period per unit and per grid-level piece, and cases left out."""

    unit_hours: NDArray[np.float64]
    piece_hours: NDArray[np.float64]
    cases: int
    cases_left_out: int


def points_to_units(cells: NDArray[np.object_], xy: NDArray[np.float64]) -> NDArray[np.intp]:
    """The unit whose cell holds each point (lowest index on shared edges), else the nearest
    within NEAREST_M, else -1. Cells and points in the same metric CRS."""
    result = np.full(len(xy), -1, dtype=np.intp)
    if len(xy) == 0 or len(cells) == 0:
        return result
    tree = shapely.STRtree(cells)
    points = shapely.points(xy)
    point, cell = tree.query(points, predicate="intersects")
    order = np.lexsort((cell, point))
    first = np.unique(point[order], return_index=True)
    result[first[0]] = cell[order][first[1]]
    missing = np.flatnonzero(result < 0)
    if len(missing):
        near_point, near_cell = tree.query_nearest(points[missing], max_distance=NEAREST_M, all_matches=False)
        result[missing[near_point]] = near_cell
    return result


def piece_share(
    unit_hours: NDArray[np.float64],
    unit_households: NDArray[np.float64],
    parent: NDArray[np.int64],
    piece_households: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Each piece's part of its unit's hours: by households, or evenly when the unit has none."""
    pieces_of = np.bincount(parent, minlength=len(unit_hours)).astype(float)
    households = unit_households[parent]
    share = np.where(households > 0, piece_households / np.maximum(households, 1e-9), 1.0 / pieces_of[parent])
    return np.asarray(unit_hours[parent] * share, dtype=np.float64)


def unit_workload(
    connection: Connection,
    district: str,
    metric_crs: str,
    cells: NDArray[np.object_],
    households: NDArray[np.float64],
    pieces: tuple[NDArray[np.int64], NDArray[np.float64]],
    period: Period,
    graph: RoadGraph,
    weights: WorkloadWeights,
) -> UnitWorkload:
    """Hours per unit (cells in `metric_crs`) and per piece (parent unit, households) over `period`."""
    to_metric = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    days = period_days(period)
    cases = read_cases(connection, district, period)
    case_unit = points_to_units(cells, _metric(to_metric, cases.lonlat))
    inside = case_unit >= 0
    case_hours = weights.case_hours_array(cases.codes)[inside]
    hours = np.bincount(case_unit[inside], case_hours, minlength=len(cells)).astype(np.float64)
    places = patrol_places(connection, district, graph, weights.patrol)
    place_unit = points_to_units(cells, _metric(to_metric, places.lonlat))
    kept = place_unit >= 0
    shares = np.bincount(place_unit[kept], places.share_m[kept], minlength=len(cells)).astype(np.float64)
    hours = hours + tour_hours(shares, weights.patrol) * weights.patrol.tours_per_week * days / 7.0
    hours = hours + households * weights.household_hours_per_year * days / 365.0
    parent, piece_households = pieces
    piece = piece_share(hours, households, parent, piece_households)
    return UnitWorkload(hours, piece, int(cases.count), int((~inside).sum()))


def _metric(transformer: Transformer, lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
    if len(lonlat) == 0:
        return np.zeros((0, 2))
    return np.column_stack(transformer.transform(lonlat[:, 0], lonlat[:, 1]))

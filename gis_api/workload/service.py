"""Workload per grid of any plan over a period: households, weighted cases and patrol effort, in hours.

workload = households × household_hours_per_year × days/365
         + Σ cases of the period × hours of their category
         + patrol tour hours × tours_per_week × days/7
(weights: data/workload_weights.toml, see gis_api.workload.weights; patrol: gis_api.workload.patrol).
Cases and buildings go to grids by the one point → grid rule (gis_api.locate), so a draft is
measured exactly as it would be once active.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from gis_api.cases.kpi import Period
from gis_api.errors import NotFoundError
from gis_api.locate.index import NO_GRID
from gis_api.locate.plan_grids import PlanGrids, plan_grids
from gis_api.routing.engine import RoadGraph
from gis_api.workload.patrol import patrol_shares_m, tour_hours
from gis_api.workload.weights import PatrolWeights, WorkloadWeights, default_weights

SECONDS_PER_DAY = 86400.0

CASES_SQL = """
SELECT id, ST_X(geom), ST_Y(geom), category_code, extract(epoch FROM created_at)
FROM incident
WHERE created_at >= :since AND created_at < :until AND left(grid_code, 6) = :district AND state <> 'void'
ORDER BY created_at, id
"""
BUILDINGS_SQL = """
SELECT ST_X(p), ST_Y(p), b.households
FROM building b CROSS JOIN LATERAL ST_PointOnSurface(b.geom) p
WHERE b.district_code = :district AND b.households > 0
UNION ALL
SELECT ST_X(h.geom), ST_Y(h.geom), count(*)
FROM household h WHERE h.district_code = :district AND h.building_id IS NULL
GROUP BY h.geom
ORDER BY 1, 2
"""
"""Places a patrol passes: buildings with households, and address points of households without one."""
FINGERPRINT_SQL = """
SELECT (SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(households), 0)
        FROM building WHERE district_code = :district),
       (SELECT count(*) || ':' || coalesce(max(id), 0) FROM household WHERE district_code = :district),
       (SELECT count(*) || ':' || coalesce(max(id), 0) FROM road_edge WHERE district_code = :district)
"""
PLAN_SQL = "SELECT district_code FROM plan WHERE id = :plan"


@dataclass(frozen=True)
class CaseBatch:
    """A period's cases of one district as arrays (WGS84, report time as epoch seconds)."""

    ids: NDArray[np.int64]
    lonlat: NDArray[np.float64]
    codes: NDArray[np.object_]
    reported_s: NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class PatrolPlaces:
    """The district's buildings (points) and each one's share of the patrol tree in metres."""

    lonlat: NDArray[np.float64]
    share_m: NDArray[np.float64]


@dataclass
class GridWorkload:
    """One grid's workload over the period, in hours, with what it is made of."""

    code: str
    name: str
    community_code: str
    households: int
    cases: int
    case_hours: float
    household_hours: float
    patrol_hours: float
    workload_hours: float = field(init=False)

    def __post_init__(self) -> None:
        self.workload_hours = self.case_hours + self.household_hours + self.patrol_hours


@dataclass(frozen=True)
class PlanWorkload:
    """Every grid of a plan with its workload over a period, and spread figures."""

    plan_id: int
    district: str
    period: Period
    weights_version: str
    grids: list[GridWorkload]
    cases_outside: int
    """Cases of the period that lie in no grid of this plan."""

    def spread(self) -> dict[str, float]:
        """max/mean and min/mean of grid workload, and the coefficient of variation."""
        return spread_figures(np.array([g.workload_hours for g in self.grids]))


def spread_figures(values: NDArray[np.float64]) -> dict[str, float]:
    """Spread of per-area totals: max/mean, min/mean, coefficient of variation."""
    if len(values) == 0 or values.mean() <= 0:
        return {"max_over_mean": 0.0, "min_over_mean": 0.0, "cv": 0.0}
    mean = float(values.mean())
    return {
        "max_over_mean": float(values.max() / mean),
        "min_over_mean": float(values.min() / mean),
        "cv": float(values.std() / mean),
    }


def plan_district(connection: Connection, plan_id: int) -> str:
    """The district of a plan; NotFoundError when there is no such plan."""
    district = connection.execute(text(PLAN_SQL), {"plan": plan_id}).scalar()
    if district is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    return str(district)


def read_cases(connection: Connection, district: str, period: Period) -> CaseBatch:
    """The district's cases reported in the period (void ones excluded), oldest first."""
    rows = connection.execute(
        text(CASES_SQL), {"since": period.start, "until": period.end, "district": district}
    ).all()
    return CaseBatch(
        ids=np.array([row[0] for row in rows], dtype=np.int64),
        lonlat=np.array([(row[1], row[2]) for row in rows], dtype=float).reshape(-1, 2),
        codes=np.array([row[3] for row in rows], dtype=object),
        reported_s=np.array([float(row[4]) for row in rows], dtype=float),
    )


_PATROL_CACHE: dict[tuple[str, str, tuple[str, ...], PatrolWeights], PatrolPlaces] = {}
_PATROL_LOCK = threading.Lock()


def patrol_places(
    connection: Connection, district: str, graph: RoadGraph, weights: PatrolWeights
) -> PatrolPlaces:
    """The district's buildings and their patrol shares, computed once per process and data version."""
    fingerprint = tuple(
        str(v) for v in connection.execute(text(FINGERPRINT_SQL), {"district": district}).one()
    )
    key = (str(connection.engine.url), district, fingerprint, weights)
    with _PATROL_LOCK:
        if key in _PATROL_CACHE:
            return _PATROL_CACHE[key]
    rows = connection.execute(text(BUILDINGS_SQL), {"district": district}).all()
    lonlat = np.array([(row[0], row[1]) for row in rows], dtype=float).reshape(-1, 2)
    places = PatrolPlaces(lonlat, patrol_shares_m(graph, lonlat, weights) if len(rows) else np.zeros(0))
    with _PATROL_LOCK:
        if len(_PATROL_CACHE) >= 4:
            _PATROL_CACHE.pop(next(iter(_PATROL_CACHE)))
        _PATROL_CACHE[key] = places
    return places


def per_grid(
    positions: NDArray[np.intp], values: NDArray[np.float64] | None, count: int
) -> NDArray[np.float64]:
    """Sum (or count, without values) per grid position, ignoring points in no grid."""
    inside = positions != NO_GRID
    weights = None if values is None else values[inside]
    return np.bincount(positions[inside], weights, minlength=count).astype(float)


def grid_workload(
    grids: PlanGrids,
    cases: CaseBatch,
    case_positions: NDArray[np.intp],
    places: PatrolPlaces,
    weights: WorkloadWeights,
    days: float,
) -> list[GridWorkload]:
    """Workload of each grid of `grids` from located cases and patrol places (pure arithmetic)."""
    case_count = per_grid(case_positions, None, grids.count)
    case_hours = per_grid(case_positions, weights.case_hours_array(cases.codes), grids.count)
    place_positions = grids.lookup(places.lonlat[:, 0], places.lonlat[:, 1])
    patrol_m = per_grid(place_positions, places.share_m, grids.count)
    patrol = tour_hours(patrol_m, weights.patrol) * weights.patrol.tours_per_week * days / 7.0
    households = grids.households.astype(float) * weights.household_hours_per_year * days / 365.0
    return [
        GridWorkload(
            code=str(grids.codes[k]),
            name=grids.names[k],
            community_code=str(grids.community_codes[k]),
            households=int(grids.households[k]),
            cases=int(case_count[k]),
            case_hours=round(float(case_hours[k]), 3),
            household_hours=round(float(households[k]), 3),
            patrol_hours=round(float(patrol[k]), 3),
        )
        for k in range(grids.count)
    ]


def period_days(period: Period) -> float:
    return (period.end - period.start).total_seconds() / SECONDS_PER_DAY


def plan_workload(
    connection: Connection,
    plan_id: int,
    period: Period,
    graph: RoadGraph,
    weights: WorkloadWeights | None = None,
) -> PlanWorkload:
    """Workload per grid of a plan (draft, active or archived) over a period of its district."""
    weights = weights or default_weights()
    district = plan_district(connection, plan_id)
    grids = plan_grids(connection, plan_id)
    cases = read_cases(connection, district, period)
    positions = grids.lookup(cases.lonlat[:, 0], cases.lonlat[:, 1])
    places = patrol_places(connection, district, graph, weights.patrol)
    rows = grid_workload(grids, cases, positions, places, weights, period_days(period))
    outside = int(np.count_nonzero(positions == NO_GRID))
    return PlanWorkload(plan_id, district, period, weights.version, rows, outside)

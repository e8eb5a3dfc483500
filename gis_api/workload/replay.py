"""Replay a period of cases on any plan: who would have had each case, how far, and in time or not.

For every case of the period (gis_api.workload.service.read_cases):
1. its grid under the plan: the one point → grid rule (gis_api.locate.plan_grids), all at once;
2. its responsible grid worker: the worker whose home grid is that grid (active plan), or, for a
   draft, the worker activation would move there (plans.service.home_grid_moves_sql); a grid no
   worker would reach is "vacant" and still replayed as if its own worker were hired;
3. the road ETA from the worker's home grid (a point inside it) by the dispatch graph
   (gis_api.routing.origins);
4. on time or not: the worker handles the grid's cases first come, first served, in working time
   (the working calendar, gis_api.cases.calendar), each taking ETA + its category's hours
   (workload weights), with the share of working time left after visits and patrol; a case is on
   time when it is handled within its deadline: the working hours its category allows for
   accepting, registering, dispatching and disposing (the categories file).
The queue is the simplification: one worker, one case at a time, no help from neighbours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from gis_api.cases.calendar import WorkingCalendar, default_calendar
from gis_api.cases.categories import CategoryCatalog, Stage, default_catalog
from gis_api.cases.kpi import Period
from gis_api.locate.index import NO_GRID
from gis_api.locate.plan_grids import PlanGrids, plan_grids
from gis_api.plans.active import active_plan_id
from gis_api.plans.service import home_grid_moves_sql
from gis_api.routing.engine import DEFAULT_LIMIT_S, RoadGraph
from gis_api.routing.origins import etas
from gis_api.workload.period import period_iso
from gis_api.workload.service import (
    CaseBatch,
    GridWorkload,
    grid_workload,
    patrol_places,
    period_days,
    plan_district,
    read_cases,
    spread_figures,
)
from gis_api.workload.weights import WorkloadWeights, default_weights

DEADLINE_STAGES = (Stage.ACCEPT, Stage.REGISTER, Stage.DISPATCH, Stage.DISPOSE)
MAX_ROUTINE_SHARE = 0.9
"""Visits and patrol never take more than this share of a worker's time in the model."""
DEADLINE_MARGIN_DAYS = 120
"""The working timeline runs this far past the period, for deadlines of its last cases."""

WORKERS_ACTIVE_SQL = """
SELECT DISTINCT ON (t.home_grid_id) t.home_grid_id, t.id, t.name FROM team_member t
JOIN grid g ON g.id = t.home_grid_id WHERE g.plan_id = :new AND t.role = 'grid_worker'
ORDER BY t.home_grid_id, t.id
"""
WORKERS_MOVED_SQL = f"""
WITH moves AS ({home_grid_moves_sql()})
SELECT DISTINCT ON (m.new_grid) m.new_grid, t.id, t.name FROM team_member t
JOIN moves m ON m.old_grid = t.home_grid_id WHERE t.role = 'grid_worker'
ORDER BY m.new_grid, t.id
"""


@dataclass
class ReplayRow:
    """One grid (or one worker) of a replay."""

    code: str
    name: str
    community_code: str
    worker_id: int | None
    worker_name: str
    households: int
    cases: int
    workload_hours: float
    eta_p50_s: float | None
    eta_p90_s: float | None
    on_time_share: float | None


@dataclass
class PlanReplay:
    """A period replayed on one plan: per grid, per worker, and the plan's figures."""

    plan_id: int
    plan_name: str
    plan_status: str
    district: str
    since: str
    until: str
    weights_version: str
    grids: list[ReplayRow]
    workers: list[ReplayRow]
    summary: dict[str, float | int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseOutcome:
    """Per-case arrays of a replay (positions into the plan's grids)."""

    grid: NDArray[np.intp]
    eta_s: NDArray[np.float64]
    on_time: NDArray[np.bool_]


def responsible_workers(
    connection: Connection, grids: PlanGrids, active: int | None
) -> list[tuple[int, str] | None]:
    """(member id, name) responsible for each grid position, None where no worker would be."""
    sql = WORKERS_ACTIVE_SQL if active in (None, grids.plan_id) else WORKERS_MOVED_SQL
    found = {
        int(row[0]): (int(row[1]), str(row[2]))
        for row in connection.execute(text(sql), {"old": active, "new": grids.plan_id})
    }
    return [found.get(int(grid_id)) for grid_id in grids.ids]


def deadline_hours(catalog: CategoryCatalog, codes: NDArray[np.object_]) -> NDArray[np.float64]:
    """Working hours from report to disposal each case's category allows (median for unknown codes)."""
    table = {code: sum(c.stage_hours[s] for s in DEADLINE_STAGES) for code, c in catalog.categories.items()}
    fallback = float(np.median(list(table.values())))
    distinct, inverse = np.unique(codes.astype(str), return_inverse=True)
    return np.array([table.get(str(c), fallback) for c in distinct], dtype=float)[inverse]


def queue_completion(arrival: NDArray[np.float64], service: NDArray[np.float64]) -> NDArray[np.float64]:
    """First come, first served, one server: completion of each job (arrival order), vectorised:
    c_k = S_k + max_{j<=k}(a_j - S_{j-1}) with S the cumulative service."""
    total = np.cumsum(service)
    return total + np.maximum.accumulate(arrival - (total - service))


def replay_plan(
    connection: Connection,
    plan_id: int,
    period: Period,
    graph: RoadGraph,
    weights: WorkloadWeights | None = None,
    calendar: WorkingCalendar | None = None,
) -> PlanReplay:
    """Replay the period's cases of the plan's district on the plan (see the module docstring)."""
    started = time.perf_counter()
    weights, calendar = weights or default_weights(), calendar or default_calendar()
    district = plan_district(connection, plan_id)
    name, status = connection.execute(
        text("SELECT name, status::text FROM plan WHERE id = :p"), {"p": plan_id}
    ).one()
    grids = plan_grids(connection, plan_id)
    cases = read_cases(connection, district, period)
    position = grids.lookup(cases.lonlat[:, 0], cases.lonlat[:, 1])
    workload = grid_workload(
        grids, cases, position, patrol_places(connection, district, graph, weights.patrol), weights,
        period_days(period),
    )  # fmt: skip
    workers = responsible_workers(connection, grids, active_plan_id(connection, district))
    outcome = simulate_cases(grids, cases, position, workload, graph, weights, calendar, period)
    rows = _grid_rows(grids, workload, workers, outcome)
    replay = PlanReplay(
        plan_id, str(name), str(status), district, *period_iso(period),
        weights.version, rows, _worker_rows(rows), {},
    )  # fmt: skip
    replay.summary = _summary(rows, cases, outcome, weights.busy_over_mean, time.perf_counter() - started)
    return replay


def simulate_cases(
    grids: PlanGrids,
    cases: CaseBatch,
    position: NDArray[np.intp],
    workload: list[GridWorkload],
    graph: RoadGraph,
    weights: WorkloadWeights,
    calendar: WorkingCalendar,
    period: Period,
) -> CaseOutcome:
    """ETA and on-time flag of every located case (see the module docstring, steps 3-4)."""
    inside = np.flatnonzero(position != NO_GRID)
    eta = np.full(cases.count, np.nan)
    on_time = np.zeros(cases.count, dtype=bool)
    if len(inside) == 0:
        return CaseOutcome(position, eta, on_time)
    eta[inside] = etas(graph, grids.inner_points, cases.lonlat[inside], position[inside])
    timeline = calendar.timeline(period.start, period.end + timedelta(days=DEADLINE_MARGIN_DAYS))
    routine = np.array([g.household_hours + g.patrol_hours for g in workload]) * 3600.0
    period_working_s = max(calendar.timeline(period.start, period.end).total_s, 1.0)
    free = 1.0 - np.minimum(routine / period_working_s, MAX_ROUTINE_SHARE)
    travel = np.where(np.isfinite(eta[inside]), eta[inside], DEFAULT_LIMIT_S)
    service = (travel + weights.case_hours_array(cases.codes[inside]) * 3600.0) / free[position[inside]]
    arrival = timeline.seconds_at(cases.reported_s[inside])
    deadline = arrival + deadline_hours(default_catalog(), cases.codes[inside]) * 3600.0
    done = np.empty(len(inside))
    order = np.lexsort((arrival, position[inside]))  # per grid, oldest first
    bounds = np.flatnonzero(np.diff(position[inside][order])) + 1
    for run in np.split(order, bounds):
        done[run] = queue_completion(arrival[run], service[run])
    on_time[inside] = done <= deadline
    return CaseOutcome(position, eta, on_time)


def _grid_rows(
    grids: PlanGrids,
    workload: list[GridWorkload],
    workers: list[tuple[int, str] | None],
    outcome: CaseOutcome,
) -> list[ReplayRow]:
    order = np.argsort(outcome.grid, kind="stable")
    starts = np.searchsorted(outcome.grid[order], np.arange(grids.count + 1))
    rows = []
    for k, load in enumerate(workload):
        mine = order[starts[k] : starts[k + 1]]
        reached = outcome.eta_s[mine][np.isfinite(outcome.eta_s[mine])]
        worker = workers[k]
        rows.append(
            ReplayRow(
                load.code,
                load.name,
                load.community_code,
                worker[0] if worker else None,
                worker[1] if worker else "",
                load.households,
                len(mine),
                round(load.workload_hours, 2),
                _quantile(reached, 0.5),
                _quantile(reached, 0.9),
                round(float(outcome.on_time[mine].mean()), 4) if len(mine) else None,
            )
        )
    return rows


def _worker_rows(grids: list[ReplayRow]) -> list[ReplayRow]:
    """Per worker: their grid's row (a worker is responsible for one grid; vacant grids have none)."""
    return sorted((row for row in grids if row.worker_id is not None), key=lambda row: row.worker_id or 0)


def _quantile(values: NDArray[np.float64], q: float) -> float | None:
    return round(float(np.quantile(values, q)), 1) if len(values) else None


def _summary(
    rows: list[ReplayRow], cases: CaseBatch, outcome: CaseOutcome, busy_over_mean: float, seconds: float
) -> dict[str, float | int | None]:
    located = outcome.grid != NO_GRID
    reached = outcome.eta_s[located & np.isfinite(outcome.eta_s)]
    loads = np.array([r.workload_hours for r in rows])
    households = np.array([r.households for r in rows], dtype=float)
    spread = spread_figures(loads)
    mean_households = households.mean() if len(households) else 0.0
    return {
        "grids": len(rows),
        "vacant_grids": sum(r.worker_id is None for r in rows),
        "cases": int(cases.count),
        "cases_in_no_grid": int((~located).sum()),
        "unreachable_by_road": int((located & ~np.isfinite(outcome.eta_s)).sum()),
        "workload_hours": round(float(loads.sum()), 1),
        "workload_max_over_mean": round(spread["max_over_mean"], 4),
        "workload_cv": round(spread["cv"], 4),
        "busy_over_mean": busy_over_mean,
        "grids_busy": int((loads > busy_over_mean * loads.mean()).sum()) if len(loads) else 0,
        "household_dev_max": round(float(np.abs(households / mean_households - 1).max()), 4)
        if mean_households
        else None,
        "eta_p50_s": _quantile(reached, 0.5),
        "eta_p90_s": _quantile(reached, 0.9),
        "on_time_share": round(float(outcome.on_time[located].mean()), 4) if located.any() else None,
        "seconds": round(seconds, 2),
    }


def replay_side_by_side(
    connection: Connection, plan_id: int, period: Period, graph: RoadGraph
) -> dict[str, PlanReplay | None]:
    """The plan and its district's active plan (None when it has none, or it is the plan itself)."""
    plan = replay_plan(connection, plan_id, period, graph)
    active = active_plan_id(connection, plan.district)
    other = replay_plan(connection, active, period, graph) if active not in (None, plan_id) else None
    return {"plan": plan, "active": other}

"""The KPI computation as it was before migration 0015 (main at 937e006), frozen: the oracle the
stored tallies are checked against (tests/cases/test_kpi_store.py). It reads every case of the
period with its events per request; do not use it outside tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.cases.calendar import WorkingCalendar, default_calendar
from gis_api.cases.kpi import STAGES, UNITS_SQL, KpiRow, KpiTable, Period, require_worker_kpis
from gis_api.errors import InvalidInputError

LEVEL_COLUMN = {"street": "street_code", "community": "community_code", "grid": "grid_code"}
STAGE_OF = {
    "reported": "accept",
    "accepted": "register",
    "registered": "dispatch",
    "returned": "dispatch",
    "dispatched": "dispose",
    "in_progress": "dispose",
    "disposed": "verify",
    "verified": "close",
}

CASES_SQL = """
WITH cohort AS (
    SELECT i.id, i.grid_code, i.community_code, i.street_code, i.assigned_member_id, i.state,
           i.closed_at, i.rework_count, i.extensions_granted, i.rating, i.deadlines
    FROM incident i
    WHERE i.created_at >= :start AND i.created_at < :end AND i.state <> 'void'
      AND i.grid_code LIKE :scope
), ev AS (
    SELECT e.case_id, e.action, e.role, e.at,
           lag(e.at) OVER w AS prev_at, lag(e.to_state) OVER w AS prev_state
    FROM case_event e JOIN cohort c ON c.id = e.case_id
    WINDOW w AS (PARTITION BY e.case_id ORDER BY e.id)
)
SELECT c.id, c.grid_code, c.community_code, c.street_code, c.assigned_member_id, c.state,
       c.closed_at, c.rework_count, c.extensions_granted, c.rating,
       c.deadlines ->> 'verify' AS verify_deadline, c.deadlines ->> 'close' AS close_deadline,
       coalesce(bool_or(ev.action = 'register'), false) AS registered,
       coalesce(bool_or(ev.action IN ('dispose', 'self_dispose')), false) AS disposed,
       coalesce(bool_or(ev.action = 'dispatch'), false) AS dispatched,
       coalesce(bool_or(ev.action = 'supervise' AND ev.role = 'system'), false) AS went_overdue,
       max(ev.at) FILTER (WHERE ev.action = 'verify') AS verified_at,
       jsonb_object_agg(ev.prev_state, ev.spent) FILTER (WHERE ev.prev_state IS NOT NULL) AS spent
FROM cohort c
LEFT JOIN (
    SELECT case_id, action, role, at, prev_state,
           sum(extract(epoch FROM at - prev_at)) OVER (PARTITION BY case_id, prev_state) AS spent
    FROM ev
) ev ON ev.case_id = c.id
GROUP BY c.id, c.grid_code, c.community_code, c.street_code, c.assigned_member_id, c.state,
         c.closed_at, c.rework_count, c.extensions_granted, c.rating, c.deadlines
"""


@dataclass
class CaseFacts:
    """What the KPIs need to know about one case of the cohort."""

    row: Any

    @property
    def closed(self) -> bool:
        return bool(self.row.state == "closed")

    @property
    def on_time(self) -> bool:
        deadline = self.row.close_deadline
        late_close = deadline is not None and self.row.closed_at > datetime.fromisoformat(deadline)
        return self.closed and not self.row.went_overdue and not late_close

    @property
    def implemented(self) -> bool:
        """Verified and closed within their own deadlines (落实)."""
        if not self.closed:
            return False
        verified_ok = _before(self.row.verified_at, self.row.verify_deadline)
        return verified_ok and _before(self.row.closed_at, self.row.close_deadline)

    def seconds_in(self) -> dict[str, float]:
        """Wall-clock seconds spent per stage."""
        spent: dict[str, float] = defaultdict(float)
        for state, seconds in (self.row.spent or {}).items():
            if state in STAGE_OF and seconds is not None:
                spent[STAGE_OF[state]] += float(seconds)
        return spent


def _before(moment: datetime | None, deadline: str | None) -> bool:
    return moment is None or deadline is None or moment <= datetime.fromisoformat(deadline)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def case_figures(facts: list[CaseFacts]) -> dict[str, Any]:
    """The case KPIs of one group of cases."""
    closed = [f for f in facts if f.closed]
    disposed = [f for f in facts if f.row.disposed]
    dispatched = [f for f in facts if f.row.dispatched]
    per_stage: dict[str, list[float]] = defaultdict(list)
    for fact in facts:
        for stage, seconds in fact.seconds_in().items():
            per_stage[stage].append(seconds / 3600)
    hours = {stage: _mean(per_stage[stage]) for stage in STAGES}
    return {
        "cases_reported": len(facts),
        "cases_registered": sum(1 for f in facts if f.row.registered),
        "cases_closed": len(closed),
        "closure_rate": _ratio(len(closed), len(facts)),
        "on_time_closure_rate": _ratio(sum(1 for f in closed if f.on_time), len(facts)),
        "rework_rate": _ratio(sum(1 for f in disposed if f.row.rework_count > 0), len(disposed)),
        "extension_rate": _ratio(sum(1 for f in dispatched if f.row.extensions_granted > 0), len(dispatched)),
        "hours_per_stage": hours,
        "implementation": _ratio(sum(1 for f in closed if f.implemented), len(closed)),
        "ratings": [f.row.rating for f in facts if f.row.rating is not None],
    }


# the per-grid facts as main had them (frozen with the rest)
GRID_WORKERS_SQL = """
SELECT g.code, m.id FROM active_grid g
JOIN team_member m ON m.home_grid_id = g.id AND m.role = 'grid_worker'
WHERE g.code LIKE :scope
"""

PATROL_DAYS_SQL = """
SELECT m.id, count(DISTINCT (p.device_time AT TIME ZONE :zone)::date)
FROM position_ping p JOIN team_member m ON m.id = p.member_id
JOIN grid g ON g.id = m.home_grid_id
WHERE m.role = 'grid_worker' AND g.code LIKE :scope AND p.device_time >= :start AND p.device_time < :end
  AND ST_Intersects(g.geom, p.geom)
GROUP BY m.id
"""

OPINIONS_SQL = """
SELECT grid_code, 'survey_familiarity' AS kind, familiarity AS score FROM survey_response
 WHERE familiarity IS NOT NULL AND surveyed_at >= :start AND surveyed_at < :end AND grid_code LIKE :scope
UNION ALL
SELECT grid_code, 'survey_trust', trust FROM survey_response
 WHERE surveyed_at >= :start AND surveyed_at < :end AND grid_code LIKE :scope
UNION ALL
SELECT grid_code, 'survey_satisfaction', satisfaction FROM survey_response
 WHERE surveyed_at >= :start AND surveyed_at < :end AND grid_code LIKE :scope
UNION ALL
SELECT g.code, 'visit_satisfaction', v.satisfaction FROM visit v JOIN grid g ON g.id = v.grid_id
 WHERE v.satisfaction IS NOT NULL AND v.visited_at >= :start AND v.visited_at < :end AND g.code LIKE :scope
"""


def working_days(period: Period, calendar: WorkingCalendar) -> int:
    """Working days of the calendar that start within the period."""
    first: date = period.start.astimezone(calendar.zone).date()
    last: date = (period.end - timedelta(microseconds=1)).astimezone(calendar.zone).date()
    days = (last - first).days + 1
    return sum(1 for n in range(days) if calendar.is_working_day(first + timedelta(days=n)))


@dataclass
class GridFacts:
    """Per-grid visit, patrol and opinion facts, gathered once per request."""

    households: dict[str, int]
    visited: dict[str, int]
    worker_of: dict[str, list[int]]
    patrol_days: dict[int, int]
    working_days: int
    opinions: dict[str, dict[str, list[int]]]
    _under: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    _of_worker: dict[int, list[str]] = field(default_factory=dict)

    def grids_under(self, length: int) -> dict[str, list[str]]:
        """Grid codes by their first `length` digits (built once per length)."""
        if length not in self._under:
            grouped: dict[str, list[str]] = defaultdict(list)
            for grid in self.households:
                grouped[grid[:length]].append(grid)
            self._under[length] = dict(grouped)
        return self._under[length]

    def grids_of_worker(self) -> dict[int, list[str]]:
        """Home grids by grid worker (built once)."""
        if not self._of_worker:
            for grid, members in self.worker_of.items():
                for member in members:
                    self._of_worker.setdefault(member, []).append(grid)
        return self._of_worker


FAMILIARITY_SQL = """
SELECT g.code, count(*) AS households,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM visit v WHERE v.household_id = h.id AND v.visited_at >= :since
             AND v.visited_at < :end)) AS visited
FROM active_grid g
JOIN household h ON h.grid_id = g.id
WHERE g.code LIKE :scope GROUP BY g.code
"""


def grid_facts(session: Session, scope: str, period: Period, familiarity_days: int) -> GridFacts:
    calendar = default_calendar()
    params = {"scope": scope + "%", "start": period.start, "end": period.end}
    since = period.end - timedelta(days=familiarity_days)
    households: dict[str, int] = {}
    visited: dict[str, int] = {}
    for code, total, seen in session.execute(text(FAMILIARITY_SQL), {**params, "since": since}):
        households[code], visited[code] = int(total), int(seen)
    worker_of: dict[str, list[int]] = defaultdict(list)
    for code, member in session.execute(text(GRID_WORKERS_SQL), params):
        worker_of[code].append(int(member))
    zone = str(calendar.zone)
    patrol = {int(m): int(d) for m, d in session.execute(text(PATROL_DAYS_SQL), {**params, "zone": zone})}
    opinions: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for code, kind, score in session.execute(text(OPINIONS_SQL), params):
        opinions[code][kind].append(int(score))
    return GridFacts(households, visited, worker_of, patrol, working_days(period, calendar), opinions)


def kpi_table(
    session: Session, principal: Principal, level: str, period: Period, familiarity_days: int = 30
) -> KpiTable:
    """One row per worker/grid/community/street of the caller's area (per named worker only for
    the roles that manage workers, whoever asks: API, ranking or CLI)."""
    if level not in UNITS_SQL:
        raise InvalidInputError(f"unknown level {level!r}: expected worker, grid, community or street")
    if level == "worker":
        require_worker_kpis(principal)
    scope = principal.scope_code
    params = {"scope": scope + "%", "start": period.start, "end": period.end}
    units = {str(c): str(n) for c, n in session.execute(text(UNITS_SQL[level]), params)}
    facts_by: dict[str, list[CaseFacts]] = defaultdict(list)
    for row in session.execute(text(CASES_SQL), params):
        key = _unit_key(row, level)
        if key is not None:
            facts_by[key].append(CaseFacts(row))
    grids = grid_facts(session, scope, period, familiarity_days)
    rows = [_row(code, name, level, facts_by.get(code, []), grids) for code, name in sorted(units.items())]
    return KpiTable(
        level=level, start=period.start, end=period.end, familiarity_days=familiarity_days, rows=rows
    )


def _unit_key(row: Any, level: str) -> str | None:
    if level == "worker":
        return str(row.assigned_member_id) if row.assigned_member_id is not None else None
    return str(getattr(row, LEVEL_COLUMN[level]))


def _row(code: str, name: str, level: str, facts: list[CaseFacts], grids: GridFacts) -> KpiRow:
    figures = case_figures(facts)
    ratings = figures.pop("ratings")
    own_grids = _grids_of(code, level, grids)
    households = sum(grids.households.get(g, 0) for g in own_grids)
    visited = sum(grids.visited.get(g, 0) for g in own_grids)
    opinions = [grids.opinions[g] for g in own_grids if g in grids.opinions]
    trust = [s for o in opinions for s in o["survey_trust"]]
    known = [s for o in opinions for s in o["survey_familiarity"]]
    satisfied = ratings + [s for o in opinions for s in o["survey_satisfaction"] + o["visit_satisfaction"]]
    members = [int(code)] if level == "worker" else [m for g in own_grids for m in grids.worker_of.get(g, [])]
    days = grids.working_days
    coverage = [grids.patrol_days.get(m, 0) / days for m in members] if days else []
    return KpiRow(
        code=code,
        name=name,
        **figures,
        patrol_coverage=_mean(min(c, 1.0) for c in coverage),
        familiarity=_familiarity(_ratio(visited, households), _mean(s / 5 for s in known)),
        trust=_mean(s / 5 for s in trust),
        satisfaction=_mean(s / 5 for s in satisfied),
    )


def _grids_of(code: str, level: str, grids: GridFacts) -> list[str]:
    """The grids under an area code (or of a worker), from an index built once per table: a city
    scope has 16,000 grids, and scanning them all for each of its rows took minutes."""
    if level == "worker":
        return grids.grids_of_worker().get(int(code), [])
    return grids.grids_under(len(code)).get(code, [])


def _familiarity(visited_share: float | None, surveyed: float | None) -> float | None:
    """熟悉度: the worker knows the households (visit share) and they know the worker (survey)."""
    parts = [part for part in (visited_share, surveyed) if part is not None]
    return round(sum(parts) / len(parts), 4) if parts else None

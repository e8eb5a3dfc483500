"""The grid-worker facts of each KPI row (households, visited households, grid workers and their
patrol days, survey and visit scores), summed per street, community, grid or worker in one query.

Each row's figures read the grids under its code (a worker: its home grids) that have households.
The database groups the per-grid facts by the row's code and returns integer sums, one row per
unit: a city scope's street level is 158 rows, where fetching the facts of all 16,638 grids and
grouping them in Python took most of the request. Sums of integers keep every mean exact, whatever
order the rows come in (gis_api.cases.kpi forms the ratios).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.calendar import WorkingCalendar

# the grids each unit's figures read: active grids of the scope with households (area levels,
# grouped by the first :length digits of their code) or the home grids of each grid worker
OWN_GRIDS_BY_AREA = """
SELECT g.id, g.code, left(g.code, :length) AS unit, n.households::int AS households
FROM grid g JOIN active_plan a ON a.plan_id = g.plan_id JOIN grid_households n ON n.grid_id = g.id
WHERE g.code LIKE :scope AND n.households > 0
"""
OWN_GRIDS_BY_WORKER = """
SELECT g.id, g.code, CAST(m.id AS text) AS unit, coalesce(n.households, 0)::int AS households
FROM grid g JOIN active_plan a ON a.plan_id = g.plan_id
JOIN team_member m ON m.home_grid_id = g.id AND m.role = 'grid_worker'
LEFT JOIN grid_households n ON n.grid_id = g.id AND n.households > 0
WHERE g.code LIKE :scope
"""
FACT_CTES = """
WITH own AS MATERIALIZED ({own}),
visited AS (
    -- households of the grid (where they live now) visited in the familiarity window
    SELECT h.grid_id, count(DISTINCT v.household_id)::int AS n
    FROM visit v JOIN household h ON h.id = v.household_id
    WHERE v.visited_at >= :since AND v.visited_at < :end AND h.grid_id IN (SELECT id FROM own)
    GROUP BY h.grid_id
),
patrol AS (
    -- working days on which the grid worker sent a position from inside the home grid
    SELECT p.member_id, count(DISTINCT (p.device_time AT TIME ZONE :zone)::date)::int AS days
    FROM position_ping p JOIN team_member m ON m.id = p.member_id
    JOIN grid g ON g.id = m.home_grid_id
    WHERE m.role = 'grid_worker' AND g.code LIKE :scope
      AND p.device_time >= :start AND p.device_time < :end AND ST_Intersects(g.geom, p.geom)
    GROUP BY p.member_id
),
scores AS (
    SELECT grid_code AS code, trust, 1 AS trusted, familiarity, satisfaction FROM survey_response
    WHERE surveyed_at >= :start AND surveyed_at < :end AND grid_code LIKE :scope
    UNION ALL
    SELECT g.code, 0, 0, NULL, v.satisfaction FROM visit v JOIN grid g ON g.id = v.grid_id
    WHERE v.satisfaction IS NOT NULL AND v.visited_at >= :start AND v.visited_at < :end
      AND g.code LIKE :scope
),
opinions AS (
    -- one row per grid code: its survey answers and visit scores of the period
    SELECT code, sum(trust)::int AS trust_sum, sum(trusted)::int AS trust_n,
           coalesce(sum(familiarity), 0)::int AS known_sum, count(familiarity)::int AS known_n,
           sum(satisfaction)::int AS satisfied_sum, count(*)::int AS satisfied_n
    FROM scores GROUP BY code
)"""
SUMS = """
       coalesce(sum(x.trust_sum), 0) AS trust_sum, coalesce(sum(x.trust_n), 0) AS trust_n,
       coalesce(sum(x.known_sum), 0) AS known_sum, coalesce(sum(x.known_n), 0) AS known_n,
       coalesce(sum(x.satisfied_sum), 0) AS satisfied_sum, coalesce(sum(x.satisfied_n), 0) AS satisfied_n"""
AREA_FACTS_SQL = (
    FACT_CTES.format(own=OWN_GRIDS_BY_AREA)
    + """,
workers AS (
    -- grid workers of each unit's grids, with their patrol days capped at the working days
    SELECT o.unit, count(*)::int AS members,
           sum(least(coalesce(p.days, 0), :working_days))::int AS patrolled
    FROM own o JOIN team_member m ON m.home_grid_id = o.id AND m.role = 'grid_worker'
    LEFT JOIN patrol p ON p.member_id = m.id
    GROUP BY o.unit
),
grids AS (
    SELECT o.unit, sum(o.households) AS households, coalesce(sum(v.n), 0) AS visited,"""
    + SUMS
    + """
    FROM own o LEFT JOIN visited v ON v.grid_id = o.id LEFT JOIN opinions x ON x.code = o.code
    GROUP BY o.unit
)
SELECT g.*, coalesce(w.members, 0) AS members, coalesce(w.patrolled, 0) AS patrolled
FROM grids g LEFT JOIN workers w ON w.unit = g.unit"""
)
"""Area levels: each unit's grids (one row of facts each) and their grid workers, summed per unit."""
WORKER_FACTS_SQL = (
    FACT_CTES.format(own=OWN_GRIDS_BY_WORKER)
    + """,
grids AS (
    SELECT o.unit, sum(o.households) AS households, coalesce(sum(v.n), 0) AS visited,"""
    + SUMS
    + """
    FROM own o LEFT JOIN visited v ON v.grid_id = o.id LEFT JOIN opinions x ON x.code = o.code
    GROUP BY o.unit
)
SELECT CAST(m.id AS text) AS unit, coalesce(o.households, 0) AS households,
       coalesce(o.visited, 0) AS visited, 1 AS members,
       least(coalesce(p.days, 0), :working_days) AS patrolled,
       coalesce(o.trust_sum, 0) AS trust_sum, coalesce(o.trust_n, 0) AS trust_n,
       coalesce(o.known_sum, 0) AS known_sum, coalesce(o.known_n, 0) AS known_n,
       coalesce(o.satisfied_sum, 0) AS satisfied_sum, coalesce(o.satisfied_n, 0) AS satisfied_n
FROM team_member m JOIN grid g ON g.id = m.home_grid_id
LEFT JOIN grids o ON o.unit = CAST(m.id AS text) LEFT JOIN patrol p ON p.member_id = m.id
WHERE m.role = 'grid_worker' AND g.code LIKE :scope"""
)
"""Workers (the units of UNITS_SQL["worker"]): the facts of their active home grids, their own
patrol days (also for a worker whose home grid is no longer active)."""


@dataclass(frozen=True)
class UnitFacts:
    """Integer sums over one unit's grids (a worker: its home grids) and its grid workers.
    `patrolled`: the workers' patrol days, each capped at the period's working days."""

    households: int = 0
    visited: int = 0
    members: int = 0
    patrolled: int = 0
    trust_sum: int = 0
    trust_n: int = 0
    known_sum: int = 0
    known_n: int = 0
    satisfied_sum: int = 0
    satisfied_n: int = 0


NO_FACTS = UnitFacts()
FACT_NAMES = tuple(f.name for f in fields(UnitFacts))


def working_days(start: datetime, end: datetime, calendar: WorkingCalendar) -> int:
    """Working days of the calendar that start within [start, end)."""
    first: date = start.astimezone(calendar.zone).date()
    last: date = (end - timedelta(microseconds=1)).astimezone(calendar.zone).date()
    days = (last - first).days + 1
    return sum(1 for n in range(days) if calendar.is_working_day(first + timedelta(days=n)))


def unit_facts_sql(level: str) -> str:
    """The query of one level: workers by their home grids, areas by the prefix of grid codes."""
    return WORKER_FACTS_SQL if level == "worker" else AREA_FACTS_SQL


@dataclass(frozen=True)
class FactWindow:
    """The period [start, end), the familiarity window [since, end), the calendar's zone and the
    period's working days (the patrol figure's denominator)."""

    since: datetime
    start: datetime
    end: datetime
    zone: str
    working_days: int

    @classmethod
    def of(
        cls, start: datetime, end: datetime, familiarity_days: int, calendar: WorkingCalendar
    ) -> FactWindow:
        since = end - timedelta(days=familiarity_days)
        return cls(since, start, end, str(calendar.zone), working_days(start, end, calendar))


def unit_facts(
    session: Session, scope: str, level: str, units: list[str], window: FactWindow
) -> dict[str, UnitFacts]:
    """The facts of each unit code (a worker: its id as text) under the area code `scope`."""
    params = {
        "scope": scope + "%", "start": window.start, "end": window.end, "since": window.since,
        "zone": window.zone, "working_days": window.working_days,
    }  # fmt: skip
    sql = text(unit_facts_sql(level))
    # area codes are prefixes of their grids' codes: group by each length the units' codes have
    lengths = [0] if level == "worker" else sorted({len(code) for code in units})
    found: dict[str, UnitFacts] = {}
    for length in lengths:
        for row in session.execute(sql, {**params, "length": length}).mappings():
            found[str(row["unit"])] = UnitFacts(*(int(row[name]) for name in FACT_NAMES))
    return found

"""The stored case tallies of a period, per worker, grid, community or street (migration 0015).

Each non-void case has one row in `case_kpi` whose columns are counts: its contribution to each
KPI's numerators and denominators (the database derives them in one function, `case_kpi_of`, and
its triggers keep them and their sums current as cases change). `case_kpi_day` and `case_kpi_month`
sum them per day and month of creation in the working calendar's zone. A period is read as its
whole months, its whole days outside those months, and the cases of its partial days at either
end: a city's month is about 17,000 summed rows instead of 190,000 cases with their events.
The ratios are formed by gis_api.cases.kpi.case_figures, for any mix of these sources alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.cases.workflow import Stage

STAGE_NAMES = tuple(stage.value for stage in Stage)
COUNTS = (
    "cases", "registered", "closed", "on_time", "disposed", "reworked", "dispatched", "extended",
    "implemented", "rated", "rating_sum",
)  # fmt: skip
TALLIES = (
    *COUNTS,
    *(f"{stage}_n" for stage in STAGE_NAMES),
    *(f"{stage}_us" for stage in STAGE_NAMES),
)
"""The columns of case_kpi and its sums: counts, cases per stage and microseconds spent in it."""
UNIT_COLUMN = {
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
    "worker": "member_id",
}
ZONE_SQL = "SELECT zone FROM case_kpi_setting"
STREET_CODE_LENGTH = 9
SUMS_BY_UNIT = ("case_kpi_month", "case_kpi_day", "grid_code")
SUMS_BY_STREET = ("case_kpi_street_month", "case_kpi_street_day", "street_code")
"""(month sums, day sums, the area column the scope filters) of each kind of stored sums."""
KPI_TRIGGERS = {
    "incident": ("tr_case_kpi_incident_insert", "tr_case_kpi_incident_update", "tr_case_kpi_incident_delete"),
    "case_event": ("tr_case_kpi_event_insert", "tr_case_kpi_event_delete"),
}

Tally = dict[str, int]


@dataclass(frozen=True)
class Slices:
    """A period cut along the zone's calendar: whole months [first, last), whole days (half-open
    date ranges) and the moments left over at either end (half-open ranges of instants)."""

    months: tuple[date, date] | None = None
    days: list[tuple[date, date]] = field(default_factory=list)
    moments: list[tuple[datetime, datetime]] = field(default_factory=list)


def midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def slices(start: datetime, end: datetime, zone: tzinfo) -> Slices:
    """The whole months, whole days and partial-day moments of [start, end) in `zone`."""
    first = start.astimezone(zone).date()
    if midnight(first, zone) < start:
        first += timedelta(days=1)
    last = end.astimezone(zone).date()  # the day [last, ...) is not whole
    if first >= last:
        return Slices(moments=[(start, end)])
    moments = [(start, midnight(first, zone))] if start < midnight(first, zone) else []
    if midnight(last, zone) < end:
        moments.append((midnight(last, zone), end))
    lo = first if first.day == 1 else next_month(first)
    hi = month_start(last)
    if lo >= hi:
        return Slices(days=[(first, last)], moments=moments)
    days = [(a, b) for a, b in ((first, lo), (hi, last)) if a < b]
    return Slices(months=(lo, hi), days=days, moments=moments)


def stored_zone(session: Session) -> str:
    """The zone the day and month sums are bucketed in."""
    return str(session.execute(text(ZONE_SQL)).scalar_one())


def period_tallies(
    session: Session, scope: str, level: str, start: datetime, end: datetime, zone: tzinfo
) -> dict[str, Tally]:
    """The summed tallies per unit (street, community, grid code or worker id) of the cases created
    in [start, end) under the area code `scope`."""
    # sums bucketed in another zone than the calendar's are of no use: read the cases themselves
    same_zone = stored_zone(session) == str(zone)
    cut = slices(start, end, zone) if same_zone else Slices(moments=[(start, end)])
    sql, params = tallies_sql(level, cut, by_street=level == "street" and len(scope) <= STREET_CODE_LENGTH)
    params["scope"] = scope + "%"
    found: dict[str, Tally] = {}
    for row in session.execute(text(sql), params).mappings():
        found[str(row["unit"])] = {name: int(row[name]) for name in TALLIES}
    return found


def tallies_sql(level: str, cut: Slices, by_street: bool = False) -> tuple[str, dict[str, Any]]:
    """One query summing the month rows, day rows and case rows of the slices per unit; `by_street`:
    streets of a scope holding whole streets, read from the per-street sums."""
    unit = UNIT_COLUMN[level]
    months, days, area = SUMS_BY_STREET if by_street else SUMS_BY_UNIT
    columns = ", ".join([unit, *TALLIES])
    parts: list[str] = []
    params: dict[str, Any] = {}
    if cut.months:
        params.update(m0=cut.months[0], m1=cut.months[1])
        parts.append(f"SELECT {columns} FROM {months} WHERE month >= :m0 AND month < :m1")
    for n, (first, last) in enumerate(cut.days):
        params.update({f"d{n}a": first, f"d{n}b": last})
        parts.append(f"SELECT {columns} FROM {days} WHERE day >= :d{n}a AND day < :d{n}b")
    for n, (first, last) in enumerate(cut.moments):
        params.update({f"t{n}a": first, f"t{n}b": last})
        parts.append(f"SELECT {columns} FROM case_kpi WHERE created_at >= :t{n}a AND created_at < :t{n}b")
    scoped = " UNION ALL ".join(f"({part} AND {area} LIKE :scope)" for part in parts)
    sums = ", ".join(f"sum({name}) AS {name}" for name in TALLIES)
    sql = f"SELECT {unit} AS unit, {sums} FROM ({scoped}) t WHERE {unit} IS NOT NULL GROUP BY {unit}"
    return sql, params


@contextmanager
def kpi_deferred(connection: Connection, first_case_id: int) -> Iterator[None]:
    """For bulk writers appending new cases (ids from first_case_id on) with their events: the
    KPI triggers are off within the block (per-statement recomputation of many cases, maybe while
    the event indexes are dropped, would be slow) and the new cases' tallies are computed once
    when it ends, in the caller's transaction (the owner's connection: it alters the tables)."""
    for table, triggers in KPI_TRIGGERS.items():
        for trigger in triggers:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    yield
    for table, triggers in KPI_TRIGGERS.items():
        for trigger in triggers:
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    # fresh statistics: planned on the empty-table estimates, each case's event lookup scans them all
    connection.execute(text("ANALYZE incident, case_event"))
    connection.execute(
        text("SELECT case_kpi_sync(ARRAY(SELECT id FROM incident WHERE id >= :first ORDER BY id))"),
        {"first": first_case_id},
    )


REBUILD_SQL = "UPDATE case_kpi_setting SET zone = :zone; SELECT case_kpi_rebuild();"
CASE_DRIFT_SQL = """
SELECT count(*) FROM incident i FULL JOIN case_kpi k ON k.case_id = i.id
WHERE CASE WHEN i.id IS NULL THEN true
           WHEN i.state = 'void' THEN k.case_id IS NOT NULL
           ELSE k IS DISTINCT FROM case_kpi_of(i) END
"""
DAY = "(k.created_at AT TIME ZONE s.zone)::date"
MONTH = f"date_trunc('month', {DAY})::date"
UNIT_KEYS = "grid_code, community_code, street_code, member_id"
BUCKETS = {
    "case_kpi_day": ("day", DAY, UNIT_KEYS),
    "case_kpi_month": ("month", MONTH, UNIT_KEYS),
    "case_kpi_street_day": ("day", DAY, "street_code"),
    "case_kpi_street_month": ("month", MONTH, "street_code"),
}


@dataclass(frozen=True)
class Drift:
    """Cases whose stored facts differ from a fresh derivation, and day or month sums that differ
    from the sums of their cases (all 0 when the triggers kept everything)."""

    cases: int
    sums: dict[str, int]

    @property
    def clean(self) -> bool:
        return self.cases == 0 and not any(self.sums.values())


def rebuild(connection: Connection, zone: str) -> int:
    """Bucket the sums in `zone` (the working calendar's) and derive every case's facts again;
    returns the cases counted. One transaction: the caller's."""
    connection.execute(text(REBUILD_SQL), {"zone": zone})
    return int(connection.execute(text("SELECT count(*) FROM case_kpi")).scalar_one())


def sums_drift_sql(table: str) -> str:
    """Rows of `table` (all-zero rows left by removals aside) not equal to the sums of case_kpi."""
    bucket, expression, keys = BUCKETS[table]
    summed = ", ".join(f"sum({name})::bigint" for name in TALLIES)
    zero = " AND ".join(f"{name} = 0" for name in TALLIES)
    kept = f"SELECT {bucket}, {keys}, {', '.join(TALLIES)} FROM {table} WHERE NOT ({zero})"
    groups = ", ".join(str(n) for n in range(1, keys.count(",") + 3))  # the bucket and the keys
    derived = f"SELECT {expression}, {keys}, {summed} FROM case_kpi k, case_kpi_setting s GROUP BY {groups}"
    return f"SELECT count(*) FROM (({kept} EXCEPT {derived}) UNION ALL ({derived} EXCEPT {kept})) wrong"


def drift(connection: Connection) -> Drift:
    """Compare what the triggers kept with a fresh derivation from the cases and their events."""
    cases = int(connection.execute(text(CASE_DRIFT_SQL)).scalar_one())
    sums = {table: int(connection.execute(text(sums_drift_sql(table))).scalar_one()) for table in BUCKETS}
    return Drift(cases, sums)

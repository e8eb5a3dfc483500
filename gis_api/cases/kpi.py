"""Assessment (考核): case KPIs and the four grid-worker measures per worker, grid, community, street.

Case figures are over the cohort of cases reported in the period (void cases excluded):
- 结案率 closure rate = closed / cohort; 按期结案率 on-time closure = closed with no overdue stage
  (never put under supervision by the scheduler, closed before the close deadline) / cohort;
- 返工率 rework rate = reworked / disposed; 延期率 extension rate = extended / dispatched;
- hours per stage = mean wall-clock hours a case spent in each stage (from the event log).
Grid-worker measures: 熟悉度 familiarity = share of the grid's households visited in the last N days
up to the period end, averaged with the residents' own familiarity answers (survey score / 5) where
the period has any; 信任度 trust = mean survey trust / 5; 满意度 satisfaction = mean of case
ratings, survey and visit satisfaction / 5; 落实度 implementation = share of closed cases whose
verification and closure met their deadlines. Patrol coverage = share of the period's working days
on which the grid worker sent a position from inside their grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.cases.calendar import WorkingCalendar, default_calendar
from gis_api.cases.kpi_facts import NO_FACTS, FactWindow, UnitFacts, unit_facts
from gis_api.cases.kpi_store import STAGE_NAMES, TALLIES, Tally, period_tallies
from gis_api.cases.models import Case
from gis_api.cases.schemas import SurveyIn
from gis_api.cases.service import Actor, lock_case, log_event, now_utc
from gis_api.cases.surveys import SurveyAnswers, household_grid, insert_survey
from gis_api.cases.workflow import OPERATORS, State
from gis_api.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from gis_api.inputs import check_moment, check_recorded, check_year

STAGES = STAGE_NAMES
MICROSECONDS_PER_HOUR = 3_600_000_000
EMPTY_TALLY: Tally = dict.fromkeys(TALLIES, 0)
MONTH_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Period:
    """A half-open time span [start, end) with aware datetimes."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime) -> Period:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInputError("start and end need a time zone, e.g. 2026-11-01T00:00:00+08:00")
        for name, moment in (("start", start), ("end", end)):
            try:
                check_moment(moment)
            except ValueError as error:
                raise InvalidInputError(f"{name} {error}") from None
        if end <= start:
            raise InvalidInputError(f"period end {end.isoformat()} is not after its start")
        if end - start > timedelta(days=1000):
            raise InvalidInputError("a period may span at most 1000 days")
        return cls(start, end)

    @classmethod
    def month(cls, month: str, calendar: WorkingCalendar | None = None) -> Period:
        """The calendar month YYYY-MM in the working calendar's time zone."""
        zone = (calendar or default_calendar()).zone
        if not MONTH_PATTERN.fullmatch(month):
            raise InvalidInputError(f"month {month[:20]!r} must be YYYY-MM in ASCII digits, e.g. 2026-11")
        year, number = check_year(int(month[:4]), "month"), int(month[5:])
        start = datetime(year, number, 1, tzinfo=zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
        return cls(start, end)


class KpiRow(BaseModel):
    code: str
    name: str
    cases_reported: int
    cases_registered: int
    cases_closed: int
    closure_rate: float | None
    on_time_closure_rate: float | None
    rework_rate: float | None
    extension_rate: float | None
    hours_per_stage: dict[str, float | None]
    patrol_coverage: float | None
    familiarity: float | None
    trust: float | None
    satisfaction: float | None
    implementation: float | None


class KpiTable(BaseModel):
    level: str
    start: datetime
    end: datetime
    familiarity_days: int
    rows: list[KpiRow]


class SurveyOut(BaseModel):
    id: int
    household_id: int
    grid_code: str
    surveyed_at: datetime


# ------------------------------------------------------------------ inputs: ratings and surveys


def rate_case(session: Session, case_id: int, actor: Actor, rating: int, note: str = "") -> Case:
    """Store the resident's 1-5 rating of a closed case (an operator records it after 回访)."""
    if actor.role not in OPERATORS:
        raise PermissionDeniedError(f"role {actor.role} may not record ratings")
    if not 1 <= rating <= 5:
        raise InvalidInputError(f"rating must be 1 to 5, got {rating}")
    case = lock_case(session, case_id, actor)
    if case.state != State.CLOSED.value:
        raise ConflictError(f"only a closed case can be rated; case {case.id} is {case.state}")
    case.rating = rating
    now = now_utc()
    log_event(session, case, actor, "rate", State.CLOSED, State.CLOSED, now, note, details={"rating": rating})
    return case


def record_survey(session: Session, principal: Principal, survey: SurveyIn) -> SurveyOut:
    """Store one resident survey about the household's grid (and its grid worker); 409 when the
    household already answered in that quarter."""
    if principal.role.value not in OPERATORS:
        raise PermissionDeniedError(f"role {principal.role} may not record surveys")
    where = household_grid(session, survey.household_id)
    if where is None or not principal.covers_area(str(where["grid_code"])):
        raise NotFoundError(f"household {survey.household_id} not found in your area")
    since = where["plan_valid_from"]
    plan_start = since if isinstance(since, datetime) else None
    check_recorded(survey.surveyed_at, "surveyed_at", plan_start, "the plan of the household's grid")
    answers = SurveyAnswers(survey.trust, survey.satisfaction, survey.familiarity, survey.note)
    survey_id = insert_survey(
        session, survey.household_id, where, answers, survey.surveyed_at,
        channel="operator", recorded_by=principal.user_id,
    )  # fmt: skip
    return SurveyOut(
        id=survey_id,
        household_id=survey.household_id,
        grid_code=str(where["grid_code"]),
        surveyed_at=survey.surveyed_at,
    )


# ------------------------------------------------------------------ case figures


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _exact_mean(total: int, count: int, unit: int) -> float | None:
    """total / (unit x count) rounded half-to-even to 4 places, in integers (exact, whichever mix of
    stored months, days and cases the sums came from; Fraction was too slow for 16,000 grids)."""
    if not count:
        return None
    divisor = unit * count
    quotient, remainder = divmod(total * 10_000, divisor)
    if 2 * remainder > divisor or (2 * remainder == divisor and quotient % 2):
        quotient += 1
    return quotient / 10_000


def case_figures(tally: Tally) -> dict[str, Any]:
    """The case KPIs of one group of cases from its summed tallies (kpi_store.TALLIES): the one
    place the case formulas live. Void cases are never counted; the cohort is the cases reported
    in the period. Hours per stage: mean over the cases that spent time in the stage."""
    cases, closed = tally["cases"], tally["closed"]
    hours = {s: _exact_mean(tally[f"{s}_us"], tally[f"{s}_n"], MICROSECONDS_PER_HOUR) for s in STAGES}
    return {
        "cases_reported": cases,
        "cases_registered": tally["registered"],
        "cases_closed": closed,
        "closure_rate": _ratio(closed, cases),
        "on_time_closure_rate": _ratio(tally["on_time"], cases),
        "rework_rate": _ratio(tally["reworked"], tally["disposed"]),
        "extension_rate": _ratio(tally["extended"], tally["dispatched"]),
        "hours_per_stage": hours,
        "implementation": _ratio(tally["implemented"], closed),
    }


# ------------------------------------------------------------------ people and places

UNITS_SQL = {
    "street": "SELECT s.code, s.name FROM street s WHERE s.code LIKE :scope",
    "community": "SELECT c.code, c.name FROM active_community c WHERE c.code LIKE :scope",
    "grid": "SELECT g.code, g.name FROM active_grid g WHERE g.code LIKE :scope",
    "worker": (
        "SELECT CAST(m.id AS text), m.name || ' (' || g.code || ')' FROM team_member m "
        "JOIN grid g ON g.id = m.home_grid_id WHERE m.role = 'grid_worker' AND g.code LIKE :scope"
    ),
}

# ------------------------------------------------------------------ tables


def require_worker_kpis(principal: Principal) -> None:
    """403 for roles that do not manage workers (auth.scope.WORKER_KPI_READERS): planners and
    workers see aggregates without names."""
    if not principal.may_read_worker_kpis:
        raise PermissionDeniedError(
            f"role {principal.role} sees KPIs per grid, community or street only, not per named worker"
        )


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
    calendar = default_calendar()
    tallies = period_tallies(session, scope, level, period.start, period.end, calendar.zone)
    window = FactWindow.of(period.start, period.end, familiarity_days, calendar)
    facts = unit_facts(session, scope, level, list(units), window)
    rows = [
        _row(code, name, tallies.get(code, EMPTY_TALLY), facts.get(code, NO_FACTS), window.working_days)
        for code, name in sorted(units.items())
    ]
    return KpiTable(
        level=level, start=period.start, end=period.end, familiarity_days=familiarity_days, rows=rows
    )


def _row(code: str, name: str, tally: Tally, facts: UnitFacts, working_days: int) -> KpiRow:
    """One unit's figures from its case tallies and its summed grid-worker facts (exact means)."""
    patrol = _exact_mean(facts.patrolled, facts.members, working_days) if working_days else None
    satisfied = tally["rating_sum"] + facts.satisfied_sum, tally["rated"] + facts.satisfied_n
    return KpiRow(
        code=code,
        name=name,
        **case_figures(tally),
        patrol_coverage=patrol,
        familiarity=_familiarity(
            _ratio(facts.visited, facts.households), _exact_mean(facts.known_sum, facts.known_n, 5)
        ),
        trust=_exact_mean(facts.trust_sum, facts.trust_n, 5),
        satisfaction=_exact_mean(*satisfied, 5),
    )


def _familiarity(visited_share: float | None, surveyed: float | None) -> float | None:
    """熟悉度: the worker knows the households (visit share) and they know the worker (survey)."""
    parts = [part for part in (visited_share, surveyed) if part is not None]
    return round(sum(parts) / len(parts), 4) if parts else None

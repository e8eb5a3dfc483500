"""Resident surveys on the grid worker (熟悉度, 信任度, 满意度): one answer per household and period.

The period is the calendar quarter in the working calendar's time zone (Beijing time), e.g. 2026Q4:
a household answers once a quarter, whether an operator records it during a visit (入户调查) or the
resident answers through their household's link. The database enforces the rule (a unique index on
household and period), so two answers arriving at once cannot both count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.calendar import default_calendar
from gis_api.errors import ConflictError, InvalidInputError
from gis_api.inputs import check_year

PERIOD_PATTERN = re.compile(r"^([0-9]{4})Q([1-4])$")
CHANNELS = ("operator", "resident")

HOUSEHOLD_GRID_SQL = """
SELECT g.id AS grid_id, g.code AS grid_code, g.name AS grid_name, c.name AS community_name,
       (SELECT m.id FROM team_member m WHERE m.home_grid_id = g.id AND m.role = 'grid_worker'
        ORDER BY m.id LIMIT 1) AS member_id,
       p.valid_from AS plan_valid_from
FROM household h JOIN grid g ON g.id = h.grid_id JOIN community c ON c.id = g.community_id
JOIN plan p ON p.id = g.plan_id
WHERE h.id = :h
"""

INSERT_SQL = """
INSERT INTO survey_response (grid_id, grid_code, member_id, household_id, surveyed_at, familiarity,
                             trust, satisfaction, note, recorded_by, period, channel)
VALUES (:grid_id, :grid_code, :member_id, :household, :at, :familiarity, :trust, :satisfaction, :note,
        :recorded_by, :period, :channel)
ON CONFLICT (household_id, period) DO NOTHING
RETURNING id
"""


def survey_period(moment: datetime) -> str:
    """The assessment quarter of an aware moment in the calendar's zone, e.g. '2026Q4'."""
    local = moment.astimezone(default_calendar().zone)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def check_period(period: str) -> str:
    """The period text if it looks like 2026Q4 (a year of the inputs' window); InvalidInputError
    otherwise."""
    match = PERIOD_PATTERN.fullmatch(period)
    if match is None:
        raise InvalidInputError(f"period {period[:20]!r} must look like 2026Q4")
    check_year(int(match.group(1)), "period")
    return period


@dataclass(frozen=True)
class SurveyAnswers:
    """The scores (1..5; familiarity may be missing on operator-recorded surveys) and a note."""

    trust: int
    satisfaction: int
    familiarity: int | None = None
    note: str = ""


def household_grid(session: Session, household_id: int) -> dict[str, object] | None:
    """The household's grid (id, code, name), community name, grid worker and the valid_from of the
    grid's plan; None if unknown."""
    row = session.execute(text(HOUSEHOLD_GRID_SQL), {"h": household_id}).mappings().one_or_none()
    return dict(row) if row is not None else None


def insert_survey(
    session: Session,
    household_id: int,
    where: dict[str, object],
    answers: SurveyAnswers,
    at: datetime,
    *,
    channel: str,
    recorded_by: int | None = None,
) -> int:
    """Store one answer for the household's period; ConflictError when it already answered."""
    period = survey_period(at)
    params = {
        "grid_id": where["grid_id"],
        "grid_code": where["grid_code"],
        "member_id": where["member_id"],
        "household": household_id,
        "at": at,
        "familiarity": answers.familiarity,
        "trust": answers.trust,
        "satisfaction": answers.satisfaction,
        "note": answers.note,
        "recorded_by": recorded_by,
        "period": period,
        "channel": channel,
    }
    survey_id = session.execute(text(INSERT_SQL), params).scalar_one_or_none()
    if survey_id is None:
        raise ConflictError(f"household {household_id} has already answered the survey for {period}")
    return int(survey_id)


def has_answered(session: Session, household_id: int, period: str) -> bool:
    """True when the household has an answer for the period."""
    found = session.execute(
        text("SELECT 1 FROM survey_response WHERE household_id = :h AND period = :p"),
        {"h": household_id, "p": period},
    ).first()
    return found is not None

"""Residents' services: the grid and worker of a place, rating a report, the household survey."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.links import LinkSecret, verify
from gis_api.auth.scope import Principal
from gis_api.auth.service import record_audit
from gis_api.cases.models import Case
from gis_api.cases.service import Actor, Position, locate_grid, lock_case, log_event, now_utc
from gis_api.cases.surveys import SurveyAnswers, has_answered, household_grid, insert_survey, survey_period
from gis_api.cases.workflow import OPERATORS, State
from gis_api.districts.service import NOTICE_LAYERS
from gis_api.errors import ConflictError, NotFoundError, PermissionDeniedError
from gis_api.open311.service import REPORT_TOKEN_PURPOSE
from gis_api.residents.schemas import GridContact, SurveyContext, SurveyLink
from gis_api.residents.tokens import read_survey_token, survey_token

RESIDENT = Actor(username="resident", role="resident")
CONTACT_SQL = """
SELECT g.code AS grid_code, g.name AS grid_name, c.code AS community_code, c.name AS community_name,
       s.code AS street_code, s.name AS street_name, d.code AS district_code, d.name AS district_name,
       m.name AS worker_name, m.office_phone,
       coalesce(m.office_phone_synthetic, false) AS office_phone_synthetic,
       EXISTS (SELECT 1 FROM data_layer l WHERE l.district_code = d.code AND l.synthetic
               AND l.layer = ANY(:notice_layers)) AS demo_data
FROM grid g JOIN community c ON c.id = g.community_id JOIN street s ON s.code = c.street_code
JOIN plan p ON p.id = g.plan_id JOIN district d ON d.code = p.district_code
LEFT JOIN LATERAL (
    SELECT name, office_phone, office_phone_synthetic FROM team_member
    WHERE home_grid_id = g.id AND role = 'grid_worker' ORDER BY id LIMIT 1
) m ON true
WHERE g.id = :g
"""
"""A grid's public facts: names from the database (its district through its plan), its worker's
name and office phone, and whether the district's areas or households are synthetic."""
SURVEY_HOUSEHOLDS_SQL = """
SELECT h.id, h.building_id, h.door_label FROM household h JOIN active_grid g ON g.id = h.grid_id
WHERE g.code = :grid ORDER BY h.building_id NULLS LAST, h.door_label, h.id
"""


def grid_contact(session: Session, position: Position) -> GridContact:
    """The grid at the point by the one point→grid rule, in whichever district's active plan holds
    it; its community, street and district, grid worker and office phone, and the Open311
    jurisdiction a report of that place goes to (its district)."""
    area = locate_grid(session, position)
    row = _contact(session, area.grid_id)
    return GridContact(**row, jurisdiction_id=area.district_code)


def _contact(session: Session, grid_id: int) -> dict[str, Any]:
    params = {"g": grid_id, "notice_layers": list(NOTICE_LAYERS)}
    return dict(session.execute(text(CONTACT_SQL), params).mappings().one())


def rate_report(
    session: Session, secret: LinkSecret, case_id: int, token: str, rating: int, note: str = ""
) -> Case:
    """Store the reporter's 1-5 rating of their closed report (once); it counts toward 满意度."""
    if not verify(secret, REPORT_TOKEN_PURPOSE, str(case_id), token):
        raise NotFoundError(f"report {case_id} not found, or the token does not belong to it")
    case = lock_case(session, case_id, RESIDENT)
    if case.state != State.CLOSED.value:
        raise ConflictError(f"report {case_id} is not closed yet: rate it once it is")
    if case.rating is not None:
        raise ConflictError(f"report {case_id} has already been rated")
    case.rating = rating
    details = {"rating": rating, "channel": "resident"}
    log_event(session, case, RESIDENT, "rate", State.CLOSED, State.CLOSED, now_utc(), note, details=details)
    return case


def survey_context(
    session: Session, secret: LinkSecret, token: str, now: datetime | None = None
) -> SurveyContext:
    """The household's grid and worker for the survey page, and whether it can still answer."""
    household_id, period = read_survey_token(secret, token)
    where = _household(session, household_id)
    contact = _contact(session, int(str(where["grid_id"])))
    return SurveyContext(
        period=period,
        grid_name=contact["grid_name"],
        community_name=contact["community_name"],
        worker_name=contact["worker_name"],
        answered=has_answered(session, household_id, period),
        open=period == survey_period(now or now_utc()),
    )


def answer_survey(
    session: Session, secret: LinkSecret, token: str, answers: SurveyAnswers, now: datetime | None = None
) -> str:
    """Store the household's answer for the token's period (409 if answered, or the period is over)."""
    household_id, period = read_survey_token(secret, token)
    moment = now or now_utc()
    if period != survey_period(moment):
        raise ConflictError(f"the survey for {period} has closed; ask your community for the new link")
    where = _household(session, household_id)
    insert_survey(session, household_id, where, answers, moment, channel="resident")
    return period


def _household(session: Session, household_id: int) -> dict[str, object]:
    where = household_grid(session, household_id)
    if where is None:
        raise NotFoundError("this survey link's household no longer belongs to a grid")
    return where


def survey_links(
    session: Session, principal: Principal, secret: LinkSecret, grid_code: str, period: str, base_url: str
) -> list[SurveyLink]:
    """A survey link per household of a grid in the operator's area (the read is audited)."""
    if principal.role.value not in OPERATORS:
        record_audit(session, principal, "survey.links.denied", grid_code, 0)
        raise PermissionDeniedError(f"role {principal.role} may not print survey links")
    if not principal.covers_area(grid_code):
        raise NotFoundError(f"grid {grid_code} not found in your area")
    rows = session.execute(text(SURVEY_HOUSEHOLDS_SQL), {"grid": grid_code}).all()
    if not rows:
        raise NotFoundError(f"grid {grid_code} has no households in the active plan")
    record_audit(session, principal, "survey.links", f"grid {grid_code} period {period}", len(rows))
    root = base_url.rstrip("/")
    return [
        SurveyLink(
            household_id=row.id,
            building_id=row.building_id,
            door_label=row.door_label,
            url=f"{root}/survey?t={survey_token(secret, row.id, period)}",
        )
        for row in rows
    ]

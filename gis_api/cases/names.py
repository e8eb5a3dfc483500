"""Names instead of ids in a case's detail: its handler, area and the people in its timeline."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import DISTRICT_CODE_LENGTH
from gis_api.cases.categories import default_catalog
from gis_api.cases.models import Case
from gis_api.cases.schemas import AssignedMember, CaseDetail

MEMBER_SQL = """
SELECT m.id, m.name, m.role::text AS role, g.code AS home_grid_code, g.name AS home_grid_name
FROM team_member m LEFT JOIN grid g ON g.id = m.home_grid_id WHERE m.id = :m
"""

# a case keeps the codes of its registration; the active plan's names first, then the newest plan's
AREA_NAMES_SQL = f"""
SELECT (SELECT name FROM district WHERE code = left(:street, {DISTRICT_CODE_LENGTH})) AS district,
       (SELECT name FROM street WHERE code = :street) AS street,
       (SELECT c.name FROM community c WHERE c.code = :community
        ORDER BY c.plan_id IN (SELECT plan_id FROM active_plan) DESC, c.plan_id DESC LIMIT 1) AS community,
       (SELECT g.name FROM grid g WHERE g.code = :grid
        ORDER BY g.plan_id IN (SELECT plan_id FROM active_plan) DESC, g.plan_id DESC LIMIT 1) AS grid
"""

EVENT_ACTOR_NAMES_SQL = """
SELECT e.id, m.name FROM case_event e
JOIN app_user u ON u.id = e.actor_user_id JOIN team_member m ON m.id = u.team_member_id
WHERE e.case_id = :c
"""


def assigned_member(session: Session, member_id: int | None) -> AssignedMember | None:
    if member_id is None:
        return None
    row = session.execute(text(MEMBER_SQL), {"m": member_id}).one_or_none()
    return AssignedMember(**row._mapping) if row is not None else None


def area_names(session: Session, case: Case) -> dict[str, str]:
    codes = {"street": case.street_code, "community": case.community_code, "grid": case.grid_code}
    row = session.execute(text(AREA_NAMES_SQL), codes).one()
    return {level: name for level, name in row._mapping.items() if name}


def event_actor_names(session: Session, case_id: int) -> dict[int, str]:
    """Event id -> the team member's name, for events logged by field accounts (operators keep
    their username)."""
    rows = session.execute(text(EVENT_ACTOR_NAMES_SQL), {"c": case_id}).all()
    return {int(event_id): str(name) for event_id, name in rows}


def with_names(session: Session, case: Case, detail: CaseDetail) -> CaseDetail:
    """The detail with its handler, area and the people of its timeline named."""
    names = event_actor_names(session, case.id)
    events = [event.model_copy(update={"actor_name": names.get(event.id)}) for event in detail.events]
    category = default_catalog().categories.get(case.category_code)
    return detail.model_copy(
        update={
            "events": events,
            "assigned_member": assigned_member(session, case.assigned_member_id),
            "area_names": area_names(session, case),
            "photo_on_dispose": bool(category and category.photo_on_dispose),
        }
    )

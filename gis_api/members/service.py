"""Availability changes of field workers and the team list of an operator's area."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal, scope_level
from gis_api.errors import PermissionDeniedError
from gis_api.events.publisher import publish
from gis_api.members.models import Availability
from gis_api.members.schemas import MemberOut, MemberPage

TEAM_READERS = frozenset({Role.ADMIN, Role.DISTRICT_OPERATOR, Role.STREET_OPERATOR, Role.COMMUNITY_OPERATOR})
"""Operators see their area's team; workers see only themselves, planners no individuals."""
MAX_MEMBERS = 10000

MEMBER_SQL = """
SELECT m.id, m.name, m.role::text AS role, m.status::text AS status, g.code AS home_grid_code,
       ST_X(m.last_position) AS lon, ST_Y(m.last_position) AS lat, m.last_seen_at
FROM team_member m LEFT JOIN grid g ON g.id = m.home_grid_id
"""

SET_STATUS_SQL = """
UPDATE team_member SET status = CAST(:status AS availability) WHERE id = :m
RETURNING id, (SELECT code FROM grid WHERE id = team_member.home_grid_id),
          ST_X(last_position), ST_Y(last_position)
"""


def set_availability(session: Session, member_id: int, status: Availability) -> MemberOut:
    """Store the member's availability and publish it live (the caller commits)."""
    row = session.execute(text(SET_STATUS_SQL), {"status": status.value, "m": member_id}).one()
    payload: dict[str, Any] = {"member_id": member_id, "status": status.value, "lon": row[2], "lat": row[3]}
    payload["change"] = "availability"
    # a 'position' event: the map's team layer already follows those (status restyles the marker)
    publish(session, "position", row[1] or "", payload, member_id=member_id)
    return member(session, member_id)


def member(session: Session, member_id: int) -> MemberOut:
    row = session.execute(text(MEMBER_SQL + " WHERE m.id = :m"), {"m": member_id}).one()
    return MemberOut(**row._mapping)


def list_members(session: Session, principal: Principal, scope: str | None) -> MemberPage:
    """Members whose home grid lies in `scope` (default: the caller's whole area)."""
    if principal.role not in TEAM_READERS:
        raise PermissionDeniedError(f"role {principal.role} may not list team members")
    area = scope or principal.scope_code
    scope_level(area)  # digits of a district/street/community/grid length, or a clear 422
    if not principal.covers_area(area):
        raise PermissionDeniedError(f"area {area} lies outside your scope {principal.scope_code}")
    # area codes are digits only (checked above), so no LIKE wildcard can get in
    rows = session.execute(
        text(MEMBER_SQL + " WHERE g.code LIKE :prefix ORDER BY m.id LIMIT :limit"),
        {"prefix": f"{area}%", "limit": MAX_MEMBERS},
    ).all()
    items = [MemberOut(**row._mapping) for row in rows]
    return MemberPage(items=items, count=len(items), scope=area)

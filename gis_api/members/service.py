"""Availability changes of field workers and the team list of an operator's area."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal, scope_level
from gis_api.errors import PermissionDeniedError
from gis_api.events.publisher import publish
from gis_api.members.availability import write_availability
from gis_api.members.models import Availability
from gis_api.members.schemas import MemberOut, MemberPage

MAX_MEMBERS = 10000

MEMBER_SQL = """
SELECT m.id, m.name, m.role::text AS role, m.status::text AS status, g.code AS home_grid_code,
       ST_X(m.last_position) AS lon, ST_Y(m.last_position) AS lat, m.last_seen_at
FROM team_member m LEFT JOIN grid g ON g.id = m.home_grid_id
"""

POSITION_SQL = """
SELECT (SELECT code FROM grid WHERE id = m.home_grid_id), ST_X(m.last_position), ST_Y(m.last_position)
FROM team_member m WHERE m.id = :m
"""


def set_availability(session: Session, member_id: int, status: Availability) -> MemberOut:
    """Store the member's availability and publish it live (the caller commits)."""
    write_availability(session, member_id, status)
    row = session.execute(text(POSITION_SQL), {"m": member_id}).one()
    payload: dict[str, Any] = {"member_id": member_id, "status": status.value, "lon": row[1], "lat": row[2]}
    payload["change"] = "availability"
    # a 'position' event: the map's team layer already follows those (status restyles the marker)
    publish(session, "position", row[0] or "", payload, member_id=member_id)
    return member(session, member_id)


def member(session: Session, member_id: int) -> MemberOut:
    row = session.execute(text(MEMBER_SQL + " WHERE m.id = :m"), {"m": member_id}).one()
    return MemberOut(**row._mapping)


def list_members(session: Session, principal: Principal, scope: str | None) -> MemberPage:
    """Members whose home grid lies in `scope` (default: the caller's whole area)."""
    if not principal.may_read_team:
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

"""Availability changes of field workers and the team list of an operator's area."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal, scope_level
from gis_api.auth.service import record_audit
from gis_api.cases.calendar import default_calendar
from gis_api.errors import NotFoundError, PermissionDeniedError
from gis_api.events.publisher import publish
from gis_api.inputs import check_year
from gis_api.members.availability import write_availability
from gis_api.members.models import Availability
from gis_api.members.schemas import MemberOut, MemberPage, Track, TrackPoint

MAX_MEMBERS = 10000
MAX_TRACK_POINTS = 20000
"""A day of 5-second pings is 17,280 fixes; beyond this the track is cut (and says so)."""


TRACK_SQL = """
SELECT device_time AS t, ST_X(geom) AS lon, ST_Y(geom) AS lat, accuracy_m FROM position_ping
WHERE member_id = :m AND device_time >= :start AND device_time < :end
ORDER BY device_time LIMIT :limit
"""

TRACK_MEMBER_SQL = """
SELECT m.name, g.code FROM team_member m LEFT JOIN grid g ON g.id = m.home_grid_id WHERE m.id = :m
"""

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


def member_track(session: Session, principal: Principal, member_id: int, day: date) -> Track:
    """The member's fixes of `day` (local time of the working calendar); audited, scoped: operators
    for members homed in their area, a grid worker for themselves only."""
    check_year(day.year, "date")  # the one window of sane dates (gis_api.inputs)
    name = _track_member(session, principal, member_id)
    zone = default_calendar().zone
    start = datetime.combine(day, time(0), zone)
    params = {"m": member_id, "start": start, "end": start + timedelta(days=1), "limit": MAX_TRACK_POINTS + 1}
    rows = session.execute(text(TRACK_SQL), params).all()
    points = [TrackPoint(**row._mapping) for row in rows[:MAX_TRACK_POINTS]]
    track = Track(
        member_id=member_id,
        name=name,
        date=day,
        timezone=str(zone),
        points=points,
        truncated=len(rows) > MAX_TRACK_POINTS,
    )
    record_audit(
        session, principal, "member_track.read", f"member {member_id} {day.isoformat()}", len(points)
    )
    return track


def _track_member(session: Session, principal: Principal, member_id: int) -> str:
    """The member's name if the caller may follow them; 404 (not 403) hides members elsewhere."""
    row = session.execute(text(TRACK_MEMBER_SQL), {"m": member_id}).one_or_none()
    if principal.role is Role.GRID_WORKER:
        own = session.execute(
            text("SELECT team_member_id FROM app_user WHERE id = :u"), {"u": principal.user_id}
        ).scalar()
        allowed = own == member_id
    elif principal.may_read_tracks:
        allowed = row is not None and row[1] is not None and principal.covers_area(str(row[1]))
    else:
        raise PermissionDeniedError(f"role {principal.role} may not follow team members' tracks")
    if row is None or not allowed:
        raise NotFoundError(f"team member {member_id} not found")
    return str(row[0])

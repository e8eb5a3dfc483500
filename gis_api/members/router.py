"""GET /members (the team layer of an operator's area) and POST /members/me/availability."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.service import record_audit
from gis_api.cases.pings import require_member
from gis_api.cases.reads import actor_for
from gis_api.db.session import SessionDep
from gis_api.inputs import Text
from gis_api.members.schemas import AvailabilityIn, MemberOut, MemberPage, Track
from gis_api.members.service import list_members, member, member_track, set_availability

router = APIRouter(prefix="/members", tags=["members"])


@router.get("")
def members(
    session: SessionDep,
    user: CurrentUser,
    scope: Annotated[Text | None, Query(max_length=20, description="street/community/grid code")] = None,
) -> MemberPage:
    """Team members homed in the caller's area (or a part of it), with last position and availability
    (audited: positions of people)."""
    page = list_members(session, user, scope)
    record_audit(session, user, "members.read", f"scope {page.scope}", page.count)
    return page


@router.get("/me")
def me(session: SessionDep, user: CurrentUser) -> MemberOut:
    """The grid worker's own team member (availability, last position), for the field app."""
    return member(session, require_member(actor_for(session, user)))


@router.post("/me/availability")
def my_availability(session: SessionDep, user: CurrentUser, body: AvailabilityIn) -> MemberOut:
    """A grid worker sets their own availability (available, en route, on scene, off duty)."""
    member_id = require_member(actor_for(session, user))
    changed = set_availability(session, member_id, body.status)
    session.commit()
    return changed


@router.get("/{member_id}/track")
def track(
    session: SessionDep,
    user: CurrentUser,
    member_id: Annotated[int, Path(gt=0, le=2**31 - 1)],
    day: Annotated[date, Query(alias="date", description="local day, YYYY-MM-DD (Beijing time)")],
) -> Track:
    """A member's GPS fixes of one day for play-back (operators of their area, or the worker); audited."""
    return member_track(session, user, member_id, day)

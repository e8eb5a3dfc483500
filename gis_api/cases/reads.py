"""Reading cases for the API: who the caller acts as, what they may see, pages and timelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select, text, true
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal, ScopeLevel, scope_level
from gis_api.cases.calendar import default_calendar
from gis_api.cases.categories import default_catalog
from gis_api.cases.duties import disposed_by
from gis_api.cases.models import Case, CaseEvent
from gis_api.cases.names import with_names
from gis_api.cases.schemas import CaseDetail, CaseOut, EventOut
from gis_api.cases.service import HANDLER_ACTIONS, Actor, case_lonlat, clock_of, now_utc, snapshot
from gis_api.cases.workflow import OPEN_STATES, Action, State, allowed_actions
from gis_api.errors import InvalidInputError, NotFoundError, PermissionDeniedError

MAX_PAGE = 500


def member_of(session: Session, user_id: int) -> int | None:
    """The team member an account is linked to (grid workers), if any."""
    member = session.execute(
        text("SELECT team_member_id FROM app_user WHERE id = :u"), {"u": user_id}
    ).scalar_one_or_none()
    return int(member) if member is not None else None


def actor_for(session: Session, principal: Principal) -> Actor:
    """The workflow actor behind a logged-in user; 403 for roles that do not handle cases."""
    role = principal.role.value
    if not principal.may_work_cases:
        raise PermissionDeniedError(f"role {role} may not work with individual cases")
    member = member_of(session, principal.user_id) if role == "grid_worker" else None
    return Actor(principal.username, role, principal.user_id, principal.scope_code, member)


def visible(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: cases in the actor's area, plus (grid workers) the cases assigned to them."""
    scope = actor.scope_code
    if scope is None:
        return true()
    if scope_level(scope) is ScopeLevel.GRID:
        mine = Case.assigned_member_id == actor.member_id if actor.member_id is not None else None
        return or_(Case.grid_code == scope, mine) if mine is not None else Case.grid_code == scope
    # scope codes are digits only (checked at account creation), so no LIKE wildcards get in
    return Case.grid_code.startswith(scope)


@dataclass(frozen=True)
class CaseFilter:
    """Filters of GET /cases; `area` narrows to a street, community or grid code."""

    state: str | None = None
    category: str | None = None
    area: str | None = None
    overdue: bool | None = None
    before_id: int | None = None
    limit: int = 100

    def apply(self, query: Select[Case], now: datetime) -> Select[Case]:
        if self.state is not None:
            query = query.where(Case.state == _state(self.state).value)
        if self.category is not None:
            query = query.where(Case.category_code.startswith(_code(self.category, "category")))
        if self.area is not None:
            scope_level(self.area)  # validates: digits of a district/street/community/grid length
            query = query.where(Case.grid_code.startswith(self.area))
        if self.overdue is not None:
            late = Case.stage_deadline < now
            query = query.where(late if self.overdue else or_(~late, Case.stage_deadline.is_(None)))
        if self.before_id is not None:
            query = query.where(Case.id < self.before_id)
        return query.order_by(Case.id.desc()).limit(self.limit)


def _state(name: str) -> State:
    try:
        return State(name)
    except ValueError:
        names = ", ".join(s.value for s in State)
        raise InvalidInputError(f"unknown state {name!r}: expected one of {names}") from None


def _code(value: str, what: str) -> str:
    if not value.isascii() or not value.isalnum() or len(value) > 16:
        raise InvalidInputError(f"{what} {value!r} must be letters and digits such as E02 or E0201")
    return value.upper()


def list_cases(session: Session, actor: Actor, filters: CaseFilter) -> list[CaseOut]:
    """One page of the cases the actor may see, newest first."""
    now = now_utc()
    query = filters.apply(select(Case).where(visible(actor)), now)
    cases = session.scalars(query).all()
    return [case_out(case, case_lonlat(case), now) for case in cases]


CLOSED_STATES = (State.CLOSED.value, State.VOID.value)
"""Spelled as the partial indexes on open cases spell it (state NOT IN ...), so they are used."""


def case_counters(session: Session, actor: Actor, area: str | None = None) -> dict[str, int]:
    """Open, overdue and closed-today counts over every case the actor may see (the command
    centre's counters: exact, not computed from a loaded page). Each count reads only its own
    rows through a partial index (open cases; the day's closures), so a city scope with months of
    cases costs what today's open cases cost."""
    now = now_utc()
    conditions = [visible(actor)]
    if area is not None:
        scope_level(area)  # validates the code
        conditions.append(Case.grid_code.startswith(area))
    start_of_day = now.astimezone(default_calendar().zone).replace(hour=0, minute=0, second=0, microsecond=0)
    is_open = Case.state.not_in(CLOSED_STATES)
    open_counts = select(func.count(), func.count().filter(Case.stage_deadline < now)).where(
        is_open, *conditions
    )
    closed_today = select(func.count()).where(
        Case.state == State.CLOSED.value, Case.closed_at >= start_of_day, *conditions
    )
    opened, overdue = session.execute(open_counts).one()
    closed = session.execute(closed_today).scalar_one()
    return {"open": int(opened), "overdue": int(overdue), "closed_today": int(closed)}


def visible_case(session: Session, actor: Actor, case_id: int) -> Case:
    """The case if the actor may see it; otherwise 404 (never says whether it exists)."""
    case = session.scalars(select(Case).where(Case.id == case_id, visible(actor))).one_or_none()
    if case is None:
        raise NotFoundError(f"case {case_id} not found")
    return case


def case_out(case: Case, position: tuple[float, float], now: datetime | None = None) -> CaseOut:
    """The API view of a stored case with its remaining working time."""
    now = now or now_utc()
    category = default_catalog().categories.get(case.category_code)
    remaining = clock_of(case).remaining_s(default_calendar(), now)
    is_open = State(case.state) in OPEN_STATES
    return CaseOut(
        id=case.id,
        category_code=case.category_code,
        category_name=category.full_name if category else case.category_code,
        state=case.state,
        stage=case.stage,
        stage_deadline=case.stage_deadline,
        deadline_uncertain=bool(case.deadline_uncertain),
        remaining_s=round(remaining, 1) if remaining is not None else None,
        overdue=bool(is_open and case.stage_deadline is not None and case.stage_deadline < now),
        supervised=case.supervised,
        escalation_level=case.escalation_level,
        grid_code=case.grid_code,
        community_code=case.community_code,
        street_code=case.street_code,
        lon=position[0],
        lat=position[1],
        source=case.source,
        description=case.description,
        assigned_member_id=case.assigned_member_id,
        extensions_granted=case.extensions_granted,
        rework_count=case.rework_count,
        rating=case.rating,
        public=case.public,
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
    )


def case_view(session: Session, case: Case) -> CaseOut:
    """case_out for one case, its position taken from the loaded row."""
    return case_out(case, case_lonlat(case))


def case_detail(session: Session, actor: Actor, case_id: int) -> CaseDetail:
    """A visible case with its timeline, dispatch explanation and the caller's possible actions."""
    case = visible_case(session, actor, case_id)
    base = case_view(session, case)
    detail = CaseDetail(
        **base.model_dump(),
        events=timeline(session, case.id),
        dispatch_explanation=case.dispatch_explanation,
        allowed_actions=possible_actions(session, case, actor),
    )
    return with_names(session, case, detail)


def timeline(session: Session, case_id: int) -> list[EventOut]:
    rows = session.execute(
        select(CaseEvent, func.ST_X(CaseEvent.geom), func.ST_Y(CaseEvent.geom))
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id)
    ).all()
    return [
        EventOut(
            id=e.id,
            at=e.at,
            actor=e.actor,
            role=e.role,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            note=e.note,
            media=list(e.media),
            details=dict(e.details),
            lon=x,
            lat=y,
        )
        for e, x, y in rows
    ]


def possible_actions(session: Session, case: Case, actor: Actor) -> list[str]:
    """Workflow actions the actor could take now (a worker's handling actions: own cases only;
    never verifying their own disposal)."""
    catalog = default_catalog()
    actions = allowed_actions(snapshot(case, catalog), actor.role, catalog.policy)
    own = actor.member_id is not None and case.assigned_member_id == actor.member_id
    if actor.role == "grid_worker" and not own:
        actions = [a for a in actions if a not in HANDLER_ACTIONS]
    if Action.VERIFY in actions and disposed_by(session, case, actor):
        actions.remove(Action.VERIFY)
    return [a.value for a in actions]

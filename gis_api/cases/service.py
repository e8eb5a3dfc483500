"""Case services: report (locate + idempotency), workflow transitions with the event log, escalation.

Every state change locks the case row (SELECT ... FOR UPDATE), runs the pure workflow, moves the
stage clock and appends one case_event in the same transaction, so the log and the case never
disagree. Dispatch (which also chooses a team member) lives in gis_api.cases.dispatch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from geoalchemy2 import WKTElement
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_api.auth.scope import area_within
from gis_api.cases.calendar import WorkingCalendar, default_calendar
from gis_api.cases.categories import CategoryCatalog, Stage, default_catalog
from gis_api.cases.deadlines import Clock, next_clock, redated, start_clock
from gis_api.cases.duties import check_not_disposer
from gis_api.cases.models import Case, CaseEvent
from gis_api.cases.schemas import CaseCreate
from gis_api.cases.workflow import OPEN_STATES, SYSTEM, Action, CaseSnapshot, Level, State, Step, apply
from gis_api.errors import InvalidInputError, NotFoundError, OutOfDistrictError, PermissionDeniedError
from gis_api.events.publisher import publish
from gis_api.loaders.chinese_datums import to_wgs84
from gis_api.locate.areas import GridArea
from gis_api.locate.sql_lookup import locate_point_sql
from gis_api.members.availability import write_availability
from gis_api.notify.outbox import enqueue_state_change

SOURCES = ("api", "open311", "patrol", "hotline")
PUBLIC_SOURCES = frozenset({"open311"})
"""Cases from these sources are public (on the Open311 feed) unless an operator says otherwise. Not
`hotline`: a caller told the desk, not a public board (an operator may still publish the case)."""
CRS_NAMES = ("wgs84", "gcj02", "bd09")

# when a handler stops working on a case the team member becomes free again
MEMBER_STATUS_AFTER: dict[Action, str] = {
    Action.START: "on_scene",
    Action.DISPOSE: "available",
    Action.RETURN: "available",
    Action.SUSPEND: "available",
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in user (role = their app role) or the scheduler (role 'system')."""

    username: str
    role: str
    user_id: int | None = None
    scope_code: str | None = None
    member_id: int | None = None
    """The team member a grid worker's account is linked to (their own cases, pings, visits)."""

    def covers(self, case: Case) -> bool:
        """True when the case lies in this actor's area or is assigned to them (None scope: all)."""
        if self.scope_code is None:
            return True
        if self.member_id is not None and case.assigned_member_id == self.member_id:
            return True
        return self.covers_area(case.grid_code)

    def covers_area(self, area_code: str) -> bool:
        """True when the area (or a member's home-grid code) lies in this actor's scope (None: all),
        by the one rule of gis_api.auth.scope."""
        return self.scope_code is None or area_within(self.scope_code, area_code)


SYSTEM_ACTOR = Actor(username="system", role=SYSTEM)
HANDLER_ACTIONS = frozenset({Action.START, Action.DISPOSE, Action.RETURN, Action.REQUEST_EXTENSION})
"""Actions a grid worker may take only on cases assigned to their own team member."""


@dataclass(frozen=True)
class CaseReport:
    """The result of create_case: the case and whether this call created it (False: a retry)."""

    case: Case
    created: bool


@dataclass
class Position:
    """A WGS-84 point given with the CRS it was reported in."""

    lon: float
    lat: float

    @classmethod
    def parse(cls, lon: float, lat: float, crs: str = "wgs84") -> Position:
        """Validate and convert gcj02/bd09 to WGS-84; InvalidInputError naming the problem."""
        if crs not in CRS_NAMES:
            raise InvalidInputError(f"unknown CRS {crs!r}: expected one of {', '.join(CRS_NAMES)}")
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInputError(f"coordinates ({lon}, {lat}) are not a valid lon/lat pair")
        x, y = to_wgs84(crs, [lon], [lat])  # type: ignore[arg-type]
        return cls(float(x[0]), float(y[0]))

    def element(self) -> WKTElement:
        return WKTElement(f"POINT({self.lon} {self.lat})", srid=4326)


def case_lonlat(case: Case) -> tuple[float, float]:
    """The case's stored point, read from the loaded row (no extra query per response)."""
    point = to_shape(case.geom)
    return float(point.x), float(point.y)


def now_utc() -> datetime:
    return datetime.now(UTC)


def create_case(
    session: Session,
    *,
    category_code: str,
    lon: float,
    lat: float,
    actor: Actor,
    crs: str = "wgs84",
    description: str = "",
    source: str = "api",
    idempotency_key: str | None = None,
    media: Sequence[str] = (),
    now: datetime | None = None,
    catalog: CategoryCatalog | None = None,
    calendar: WorkingCalendar | None = None,
    within: str = "",
) -> CaseReport:
    """Report a case at a point: locate its grid, start the accept clock, log the report.

    `within` (a city or district code) refuses points in other districts (Open311 jurisdictions)."""
    catalog, calendar, now = catalog or default_catalog(), calendar or default_calendar(), now or now_utc()
    category = catalog.get(category_code)
    if source not in SOURCES:
        raise InvalidInputError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    _check_key(idempotency_key)
    position = Position.parse(lon, lat, crs)
    if idempotency_key and (existing := _by_key(session, idempotency_key)) is not None:
        return _replayed(existing, position, within)
    area = locate_grid(session, position, within)
    clock = start_clock(State.REPORTED, category, calendar, now)
    case = Case(
        category_code=category.code,
        categories_version=catalog.version,
        description=description,
        state=State.REPORTED.value,
        grid_id=area.grid_id,
        grid_code=area.grid_code,
        community_code=area.community_code,
        street_code=area.street_code,
        geom=position.element(),
        reporter=actor.username,
        reporter_user_id=actor.user_id,
        source=source,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
        deadlines={},
        dispatch_explanation=None,
        public=source in PUBLIC_SOURCES,
    )
    _set_clock(case, clock)
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        # a concurrent retry with the same key won the race: return its case
        if idempotency_key and (existing := _by_key(session, idempotency_key)) is not None:
            return _replayed(existing, position, within)
        raise
    # the description as the reporter wrote it, kept in the append-only log (what Open311 publishes)
    details = {"description": description}
    log_event(
        session,
        case,
        actor,
        "report",
        None,
        State.REPORTED,
        now,
        media=media,
        position=position,
        details=details,
    )
    return CaseReport(case, True)


def report_case(
    session: Session, body: CaseCreate, actor: Actor, source: str, idempotency_key: str | None
) -> CaseReport:
    """`create_case` with the fields of a POST /cases body (the hotline's body extends it)."""
    return create_case(
        session,
        category_code=body.category_code,
        lon=body.lon,
        lat=body.lat,
        actor=actor,
        crs=body.crs.value,
        description=body.description,
        source=source,
        idempotency_key=idempotency_key,
        media=body.media,
    )


def _check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 128:
        raise InvalidInputError("Idempotency-Key must be 1 to 128 characters long")


def _by_key(session: Session, key: str) -> Case | None:
    return session.scalars(select(Case).where(Case.idempotency_key == key)).one_or_none()


def _replayed(existing: Case, position: Position, within: str) -> CaseReport:
    """The retried case, unless the retry names a jurisdiction that does not hold it: the same
    report filed in another district is refused as a fresh one would be, not answered with a case
    outside the caller's jurisdiction."""
    if not (existing.grid_code or "").startswith(within):
        where = f"point ({position.lon:.6f}, {position.lat:.6f})"
        raise OutOfDistrictError(f"{where} lies in district {existing.grid_code[:6]}, outside {within}")
    return CaseReport(existing, False)


def locate_grid(session: Session, position: Position, within: str = "") -> GridArea:
    """The active grid at the point (gis_api.locate.rule); OutOfDistrictError when there is none
    or when it lies outside the districts under `within` (a city or district code)."""
    area = locate_point_sql(session, position.lon, position.lat)
    where = f"point ({position.lon:.6f}, {position.lat:.6f})"
    if area is None:
        raise OutOfDistrictError(f"{where} lies outside every grid of the active plans")
    if not area.grid_code.startswith(within):
        raise OutOfDistrictError(f"{where} lies in district {area.district_code}, outside {within}")
    return area


def lock_case(session: Session, case_id: int, actor: Actor) -> Case:
    """The case row locked for update; NotFoundError when missing or outside the actor's area."""
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()).one_or_none()
    if case is None or not actor.covers(case):
        raise NotFoundError(f"case {case_id} not found")
    return case


def snapshot(case: Case, catalog: CategoryCatalog) -> CaseSnapshot:
    """The workflow view of a stored case."""
    category = catalog.categories.get(case.category_code)
    return CaseSnapshot(
        state=State(case.state),
        self_disposable=bool(category and category.self_dispose),
        supervised=case.supervised,
        level=Level(case.escalation_level),
        extensions_granted=case.extensions_granted,
        extension_requested_hours=case.extension_requested_hours,
        suspended_from=State(case.suspended_from) if case.suspended_from else None,
        suspended_at=case.suspended_at,
        rework_count=case.rework_count,
    )


def clock_of(case: Case) -> Clock:
    stage = Stage(case.stage) if case.stage else None
    return Clock(stage, case.stage_deadline, case.paused_remaining_s, bool(case.deadline_uncertain))


def transition_case(
    session: Session,
    case_id: int,
    action: Action | str,
    actor: Actor,
    *,
    note: str = "",
    media: Sequence[str] = (),
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    hours: float | None = None,
    now: datetime | None = None,
    catalog: CategoryCatalog | None = None,
    calendar: WorkingCalendar | None = None,
) -> Case:
    """Apply one workflow action (not dispatch: see dispatch_case) and log it; 409 when invalid."""
    action = _parse_action(action)
    if action is Action.DISPATCH:
        raise InvalidInputError("dispatch a case with dispatch_case, which chooses the team member")
    catalog, calendar, now = catalog or default_catalog(), calendar or default_calendar(), now or now_utc()
    position = Position.parse(lon, lat, crs) if lon is not None and lat is not None else None
    case = lock_case(session, case_id, actor)
    _check_own_case(case, action, actor)
    if action is Action.VERIFY:
        check_not_disposer(session, case, actor)
    step = apply(snapshot(case, catalog), action, actor.role, catalog.policy, now=now, hours=hours)
    check_photo_rule(catalog, case.category_code, action, media)
    granted = case.extension_requested_hours if action is Action.GRANT_EXTENSION else None
    clock = next_clock(step, clock_of(case), catalog.get(case.category_code), calendar, now, granted)
    apply_step(session, case, step, clock, now)
    log_event(session, case, actor, action.value, step.from_state, step.to_state, now, note, media, position)
    return case


def _check_own_case(case: Case, action: Action, actor: Actor) -> None:
    """A grid worker handles only the cases dispatched to them, not every case of their grid."""
    if actor.role != "grid_worker" or action not in HANDLER_ACTIONS:
        return
    if actor.member_id is None or case.assigned_member_id != actor.member_id:
        raise PermissionDeniedError(f"case {case.id} is not assigned to you: you may not {action} it")


PHOTO_ACTIONS = frozenset({Action.DISPOSE, Action.SELF_DISPOSE})


def check_photo_rule(catalog: CategoryCatalog, code: str, action: Action, media: Sequence[str]) -> None:
    """422 when the category says a dispose needs a photo (photo_on_dispose) and none is attached."""
    category = catalog.categories.get(code)
    if action in PHOTO_ACTIONS and category is not None and category.photo_on_dispose and not media:
        raise InvalidInputError(
            f"rule photo_on_dispose: category {code} ({category.full_name}) needs a photo to {action}; "
            "upload one with POST /media and send its ref in media"
        )


def _parse_action(action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        names = ", ".join(a.value for a in Action)
        raise InvalidInputError(f"unknown action {action!r}: expected one of {names}") from None


def apply_step(session: Session, case: Case, step: Step, clock: Clock, now: datetime) -> None:
    """Copy a workflow step and its clock onto the stored case (and free or occupy its handler)."""
    after = step.after
    case.state = after.state.value
    case.supervised = after.supervised
    if after.level.value != case.escalation_level:
        case.escalation_level, case.escalated_at = after.level.value, now
    case.extensions_granted = after.extensions_granted
    case.extension_requested_hours = after.extension_requested_hours
    case.suspended_from = after.suspended_from.value if after.suspended_from else None
    case.suspended_at = after.suspended_at
    case.rework_count = after.rework_count
    case.updated_at = now
    if after.state is State.CLOSED:
        case.closed_at = now
    _set_clock(case, clock)
    status = MEMBER_STATUS_AFTER.get(step.action)
    if status and case.assigned_member_id is not None:
        write_availability(session, case.assigned_member_id, status)
    session.flush()


def _set_clock(case: Case, clock: Clock) -> None:
    case.stage = clock.stage.value if clock.stage else None
    case.stage_deadline = clock.deadline
    case.paused_remaining_s = clock.paused_remaining_s
    case.deadline_uncertain = clock.uncertain
    if clock.stage is not None and clock.deadline is not None:
        case.deadlines = {**(case.deadlines or {}), clock.stage.value: clock.deadline.isoformat()}


def log_event(
    session: Session,
    case: Case,
    actor: Actor,
    action: str,
    from_state: State | None,
    to_state: State,
    now: datetime,
    note: str = "",
    media: Sequence[str] = (),
    position: Position | None = None,
    details: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor=actor.username,
        actor_user_id=actor.user_id,
        role=actor.role,
        action=action,
        from_state=from_state.value if from_state else None,
        to_state=to_state.value,
        note=note,
        media=list(media),
        details=details or {},
        geom=position.element() if position else None,
    )
    session.add(event)
    session.flush()
    publish_case_event(session, case, event)
    enqueue_state_change(session, case, event)
    return event


def publish_case_event(session: Session, case: Case, event: CaseEvent) -> None:
    """Announce the transition to live listeners (delivered when the transaction commits)."""
    payload = {
        "event_id": event.id,
        "case_id": case.id,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "state": case.state,
        "category_code": case.category_code,
        "actor": event.actor,
        "role": event.role,
        "at": event.at.isoformat(),
        "assigned_member_id": case.assigned_member_id,
        "supervised": case.supervised,
        "escalation_level": case.escalation_level,
    }
    publish(session, "case", case.grid_code, payload, case_id=case.id, member_id=case.assigned_member_id)


@dataclass
class EscalationReport:
    """What one escalation run did: cases newly supervised and level changes (case id, level)."""

    checked: int = 0
    supervised: list[int] = field(default_factory=list)
    escalated: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.checked} overdue case(s) checked, {len(self.supervised)} put under supervision, "
            f"{len(self.escalated)} escalation(s)"
        )


OVERDUE_SQL = """
SELECT id FROM incident
WHERE state NOT IN ('closed', 'void')
  AND (stage_deadline < :now OR (state = 'suspended' AND suspended_at < :now - make_interval(days => :days)))
ORDER BY id FOR UPDATE SKIP LOCKED
"""


def escalate_overdue(
    session: Session,
    now: datetime | None = None,
    *,
    catalog: CategoryCatalog | None = None,
    calendar: WorkingCalendar | None = None,
) -> EscalationReport:
    """Supervise every overdue open case and raise its command level community -> street -> district.

    Overdue at all means street level; overdue by `district_after_hours` working hours (or suspended
    past `max_suspended_days`) means district. Rows locked by a concurrent run are skipped.
    """
    catalog, calendar, now = catalog or default_catalog(), calendar or default_calendar(), now or now_utc()
    policy = catalog.policy
    report = EscalationReport()
    ids = session.scalars(text(OVERDUE_SQL), {"now": now, "days": policy.max_suspended_days}).all()
    for case_id in ids:
        case = session.get_one(Case, case_id)
        report.checked += 1
        target = _target_level(case, calendar, now, policy.district_after_hours)
        _raise_to(session, case, target, now, catalog, report)
    return report


def _target_level(case: Case, calendar: WorkingCalendar, now: datetime, district_after_hours: float) -> Level:
    if case.state == State.SUSPENDED.value:
        return Level.DISTRICT
    assert case.stage_deadline is not None  # selected because it is past
    overdue_h = calendar.working_seconds_between(case.stage_deadline, now) / 3600
    return Level.DISTRICT if overdue_h >= district_after_hours else Level.STREET


def _raise_to(
    session: Session,
    case: Case,
    target: Level,
    now: datetime,
    catalog: CategoryCatalog,
    report: EscalationReport,
) -> None:
    levels = list(Level)
    actions = [] if case.supervised else [Action.SUPERVISE]
    actions += [Action.ESCALATE] * (levels.index(target) - levels.index(Level(case.escalation_level)))
    details = {
        "stage": case.stage,
        "deadline": case.stage_deadline.isoformat() if case.stage_deadline else None,
    }
    for action in actions:
        step = apply(snapshot(case, catalog), action, SYSTEM, catalog.policy, now=now)
        apply_step(session, case, step, clock_of(case), now)
        note = "overdue" if action is Action.SUPERVISE else f"escalated to {step.after.level}"
        log_event(
            session,
            case,
            SYSTEM_ACTOR,
            action.value,
            step.from_state,
            step.to_state,
            now,
            note,
            details=details,
        )
        if action is Action.SUPERVISE:
            report.supervised.append(case.id)
        else:
            report.escalated.append((case.id, step.after.level.value))


def redate_uncertain_deadlines(
    session: Session, before: WorkingCalendar, after: WorkingCalendar, now: datetime | None = None
) -> list[int]:
    """After a year's holidays were added to the calendar: recount the open cases whose deadline was
    uncertain (counted past the old coverage) with the new calendar; returns their ids."""
    now = now or now_utc()
    still_open = Case.state.in_([state.value for state in OPEN_STATES])
    flagged = session.scalars(
        select(Case).where(Case.deadline_uncertain, still_open).order_by(Case.id).with_for_update()
    ).all()
    for case in flagged:
        _set_clock(case, redated(clock_of(case), before, after, now))
    session.flush()
    return [case.id for case in flagged]

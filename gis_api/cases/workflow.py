"""The case workflow as a pure state machine: which action moves which state, and who may do it.

States follow digital city management practice (GB/T 30428 / CJ/T 214): 上报 → 受理 → 立案 → 派遣 →
处置 → 处置反馈 → 核查 → 结案, with 回退, 延期, 挂账, 返工, 作废, 督办 and 自行处置. Nothing here
touches the database: `apply` takes a snapshot and returns the next one, or raises ConflictError
(HTTP 409) / PermissionDeniedError (403) with the reason.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from gis_api.auth import scope
from gis_api.cases.categories import Stage, WorkflowPolicy
from gis_api.errors import ConflictError, InvalidInputError, PermissionDeniedError


class State(enum.StrEnum):
    REPORTED = "reported"  # 上报
    ACCEPTED = "accepted"  # 受理
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    IN_PROGRESS = "in_progress"  # 处置
    DISPOSED = "disposed"  # 处置反馈
    VERIFIED = "verified"  # 核查
    CLOSED = "closed"  # 结案
    RETURNED = "returned"  # 回退 (to the dispatcher)
    SUSPENDED = "suspended"  # 挂账
    VOID = "void"  # 作废


class Action(enum.StrEnum):
    ACCEPT = "accept"
    REGISTER = "register"
    DISPATCH = "dispatch"
    START = "start"
    DISPOSE = "dispose"
    VERIFY = "verify"
    REWORK = "rework"  # 返工: verification failed
    CLOSE = "close"
    RETURN = "return"  # 回退
    SELF_DISPOSE = "self_dispose"  # 自行处置 by a grid worker on patrol
    REQUEST_EXTENSION = "request_extension"
    GRANT_EXTENSION = "grant_extension"
    DENY_EXTENSION = "deny_extension"
    SUSPEND = "suspend"
    RESUME = "resume"
    VOID = "void"
    SUPERVISE = "supervise"  # 督办
    ESCALATE = "escalate"


class Level(enum.StrEnum):
    """Command level responsible for an escalated case, in escalation order."""

    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


SYSTEM = "system"
"""Role of the scheduler that escalates overdue cases (not a login role)."""
# role names as the workflow sees them; which roles they are is decided in gis_api.auth.scope
OPERATORS = frozenset(role.value for role in scope.CASE_OPERATORS)
SENIOR_OPERATORS = frozenset(role.value for role in scope.SENIOR_OPERATORS)
WORKER = frozenset(role.value for role in scope.CASE_ROLES - scope.CASE_OPERATORS)
KNOWN_ROLES = OPERATORS | WORKER | {"planner", SYSTEM}

OPEN_STATES = frozenset(State) - {State.CLOSED, State.VOID}
HANDLING = frozenset({State.DISPATCHED, State.IN_PROGRESS})

# action -> (states it may start from, state it leads to (None: stays), roles allowed)
RULES: dict[Action, tuple[frozenset[State], State | None, frozenset[str]]] = {
    Action.ACCEPT: (frozenset({State.REPORTED}), State.ACCEPTED, OPERATORS),
    Action.REGISTER: (frozenset({State.ACCEPTED}), State.REGISTERED, OPERATORS),
    Action.DISPATCH: (frozenset({State.REGISTERED, State.RETURNED}), State.DISPATCHED, OPERATORS),
    Action.START: (frozenset({State.DISPATCHED}), State.IN_PROGRESS, WORKER | OPERATORS),
    Action.DISPOSE: (HANDLING, State.DISPOSED, WORKER | OPERATORS),
    Action.VERIFY: (frozenset({State.DISPOSED}), State.VERIFIED, WORKER | OPERATORS),
    Action.REWORK: (frozenset({State.DISPOSED}), State.IN_PROGRESS, WORKER | OPERATORS),
    Action.CLOSE: (frozenset({State.VERIFIED}), State.CLOSED, OPERATORS),
    Action.RETURN: (HANDLING, State.RETURNED, WORKER | OPERATORS),
    Action.SELF_DISPOSE: (frozenset({State.REPORTED}), State.DISPOSED, WORKER),
    Action.REQUEST_EXTENSION: (HANDLING, None, WORKER | OPERATORS),
    Action.GRANT_EXTENSION: (HANDLING, None, SENIOR_OPERATORS),
    Action.DENY_EXTENSION: (HANDLING, None, SENIOR_OPERATORS),
    Action.SUSPEND: (
        frozenset({State.REGISTERED, State.DISPATCHED, State.IN_PROGRESS}),
        State.SUSPENDED,
        SENIOR_OPERATORS,
    ),
    Action.RESUME: (frozenset({State.SUSPENDED}), None, SENIOR_OPERATORS),
    Action.VOID: (
        frozenset({State.REPORTED, State.ACCEPTED, State.REGISTERED, State.RETURNED}),
        State.VOID,
        SENIOR_OPERATORS,
    ),
    Action.SUPERVISE: (OPEN_STATES, None, SENIOR_OPERATORS | {SYSTEM}),
    Action.ESCALATE: (OPEN_STATES, None, SENIOR_OPERATORS | {SYSTEM}),
}

STAGE_OF_STATE: dict[State, Stage] = {
    State.REPORTED: Stage.ACCEPT,
    State.ACCEPTED: Stage.REGISTER,
    State.REGISTERED: Stage.DISPATCH,
    State.RETURNED: Stage.DISPATCH,
    State.DISPATCHED: Stage.DISPOSE,
    State.IN_PROGRESS: Stage.DISPOSE,
    State.DISPOSED: Stage.VERIFY,
    State.VERIFIED: Stage.CLOSE,
}
"""The timed stage a case is in while in each state; closed, void and suspended have no clock."""


@dataclass(frozen=True)
class CaseSnapshot:
    """The workflow-relevant part of a case."""

    state: State
    self_disposable: bool = False
    supervised: bool = False
    level: Level = Level.COMMUNITY
    extensions_granted: int = 0
    extension_requested_hours: float | None = None
    suspended_from: State | None = None
    suspended_at: datetime | None = None
    rework_count: int = 0


@dataclass(frozen=True)
class Step:
    """One applied action: the states before and after and the new snapshot."""

    action: Action
    from_state: State
    to_state: State
    after: CaseSnapshot

    @property
    def restarts_clock(self) -> bool:
        """True when the stage deadline must be computed afresh (a new stage or a rework round)."""
        if self.action is Action.REWORK:
            return True
        if self.to_state is self.from_state or self.to_state not in STAGE_OF_STATE:
            return False
        return STAGE_OF_STATE[self.to_state] is not STAGE_OF_STATE.get(self.from_state)


def allowed_actions(snapshot: CaseSnapshot, role: str, policy: WorkflowPolicy) -> list[Action]:
    """Every action this role could apply to the case now (for UIs and the role matrix tests)."""
    possible = []
    for action in Action:
        try:
            apply(snapshot, action, role, policy, now=None, hours=1.0)
        except (ConflictError, PermissionDeniedError):
            continue
        possible.append(action)
    return possible


def apply(
    snapshot: CaseSnapshot,
    action: Action,
    role: str,
    policy: WorkflowPolicy,
    *,
    now: datetime | None = None,
    hours: float | None = None,
) -> Step:
    """Apply `action` by someone in `role`; `hours` is the extension asked for (REQUEST_EXTENSION)."""
    if role not in KNOWN_ROLES:
        raise InvalidInputError(f"unknown role {role!r}")
    sources, target, roles = RULES[action]
    if snapshot.state not in sources:
        raise ConflictError(_wrong_state(action, snapshot.state, sources))
    if role not in roles:
        raise PermissionDeniedError(f"role {role} may not {action} a case")
    after = _SPECIAL.get(action, _plain)(snapshot, policy, now, hours)
    if target is not None:
        after = replace(after, state=target)
    return Step(action, snapshot.state, after.state, after)


def _wrong_state(action: Action, state: State, sources: frozenset[State]) -> str:
    expected = ", ".join(sorted(sources))
    return f"cannot {action} a case that is {state}: only from {expected}"


def _plain(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    return snapshot


def _self_dispose(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    if not snapshot.self_disposable:
        raise ConflictError("this category may not be self-disposed on patrol (自行处置)")
    return snapshot


def _rework(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    return replace(snapshot, rework_count=snapshot.rework_count + 1)


def _request_extension(
    snapshot: CaseSnapshot, policy: WorkflowPolicy, now: datetime | None, hours: float | None
) -> CaseSnapshot:
    if snapshot.extension_requested_hours is not None:
        raise ConflictError("an extension request is already pending")
    if snapshot.extensions_granted >= policy.max_extensions:
        raise ConflictError(f"extension cap reached: {policy.max_extensions} already granted")
    if hours is None or not 0 < hours <= policy.max_extension_hours:
        raise InvalidInputError(
            f"extension must be > 0 and <= {policy.max_extension_hours} working hours, got {hours}"
        )
    return replace(snapshot, extension_requested_hours=hours)


def _decide_extension(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    if snapshot.extension_requested_hours is None:
        raise ConflictError("no extension request is pending")
    return replace(snapshot, extension_requested_hours=None)


def _grant_extension(snapshot: CaseSnapshot, *rest: object) -> CaseSnapshot:
    decided = _decide_extension(snapshot)
    return replace(decided, extensions_granted=snapshot.extensions_granted + 1)


def _suspend(
    snapshot: CaseSnapshot, policy: WorkflowPolicy, now: datetime | None, hours: float | None
) -> CaseSnapshot:
    return replace(
        snapshot,
        suspended_from=snapshot.state,
        suspended_at=now,
        extension_requested_hours=None,
    )


def _resume(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    back = snapshot.suspended_from or State.REGISTERED
    return replace(snapshot, state=back, suspended_from=None, suspended_at=None)


def _supervise(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    if snapshot.supervised:
        raise ConflictError("the case is already under supervision (督办)")
    return replace(snapshot, supervised=True)


def _escalate(snapshot: CaseSnapshot, *_: object) -> CaseSnapshot:
    levels = list(Level)
    position = levels.index(snapshot.level)
    if position == len(levels) - 1:
        raise ConflictError("the case is already escalated to the district")
    return replace(snapshot, level=levels[position + 1], supervised=True)


Effect = Callable[[CaseSnapshot, WorkflowPolicy, datetime | None, float | None], CaseSnapshot]

_SPECIAL: dict[Action, Effect] = {
    Action.SELF_DISPOSE: _self_dispose,
    Action.REWORK: _rework,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.GRANT_EXTENSION: _grant_extension,
    Action.DENY_EXTENSION: _decide_extension,
    Action.SUSPEND: _suspend,
    Action.RESUME: _resume,
    Action.SUPERVISE: _supervise,
    Action.ESCALATE: _escalate,
}

"""Every allowed and forbidden transition of the case state machine, and who may do them."""

from datetime import UTC, datetime
from itertools import product

import pytest

from gis_api.cases.categories import WorkflowPolicy
from gis_api.cases.workflow import (
    Action,
    CaseSnapshot,
    Level,
    State,
    allowed_actions,
    apply,
)
from gis_api.errors import ConflictError, InvalidInputError, PermissionDeniedError

S, A = State, Action
POLICY = WorkflowPolicy(max_extensions=2, max_extension_hours=16)
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)

# Written out by hand from the workflow description: (from state, action) -> resulting state.
EXPECTED = {
    (S.REPORTED, A.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, A.REGISTER): S.REGISTERED,
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.RETURNED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.START): S.IN_PROGRESS,
    (S.DISPATCHED, A.DISPOSE): S.DISPOSED,
    (S.IN_PROGRESS, A.DISPOSE): S.DISPOSED,
    (S.DISPOSED, A.VERIFY): S.VERIFIED,
    (S.DISPOSED, A.REWORK): S.IN_PROGRESS,
    (S.VERIFIED, A.CLOSE): S.CLOSED,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.IN_PROGRESS, A.RETURN): S.RETURNED,
    (S.REPORTED, A.SELF_DISPOSE): S.DISPOSED,
    (S.DISPATCHED, A.REQUEST_EXTENSION): S.DISPATCHED,
    (S.IN_PROGRESS, A.REQUEST_EXTENSION): S.IN_PROGRESS,
    (S.REGISTERED, A.SUSPEND): S.SUSPENDED,
    (S.DISPATCHED, A.SUSPEND): S.SUSPENDED,
    (S.IN_PROGRESS, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.RESUME): S.IN_PROGRESS,
    (S.REPORTED, A.VOID): S.VOID,
    (S.ACCEPTED, A.VOID): S.VOID,
    (S.REGISTERED, A.VOID): S.VOID,
    (S.RETURNED, A.VOID): S.VOID,
}
OPEN = [s for s in State if s not in (S.CLOSED, S.VOID)]
for state in OPEN:
    EXPECTED[(state, A.SUPERVISE)] = state
    EXPECTED[(state, A.ESCALATE)] = state
for state in (S.DISPATCHED, S.IN_PROGRESS):
    EXPECTED[(state, A.GRANT_EXTENSION)] = state
    EXPECTED[(state, A.DENY_EXTENSION)] = state


def snapshot_for(state: State, action: Action) -> CaseSnapshot:
    """A snapshot in `state` that satisfies the action's non-state preconditions."""
    return CaseSnapshot(
        state=state,
        self_disposable=True,
        extension_requested_hours=8.0 if action in (A.GRANT_EXTENSION, A.DENY_EXTENSION) else None,
        suspended_from=S.IN_PROGRESS if state is S.SUSPENDED else None,
    )


def role_for(action: Action) -> str:
    return "grid_worker" if action is A.SELF_DISPOSE else "district_operator"


@pytest.mark.parametrize(("state", "action"), list(product(State, Action)))
def test_every_state_action_pair(state: State, action: Action) -> None:
    snapshot = snapshot_for(state, action)
    if (state, action) in EXPECTED:
        step = apply(snapshot, action, role_for(action), POLICY, now=NOW, hours=4)
        assert (step.from_state, step.to_state) == (state, EXPECTED[(state, action)])
    else:
        with pytest.raises(ConflictError, match=f"cannot {action} a case that is {state}"):
            apply(snapshot, action, role_for(action), POLICY, now=NOW, hours=4)


@pytest.mark.parametrize(
    ("action", "state", "role"),
    [
        (A.ACCEPT, S.REPORTED, "grid_worker"),
        (A.DISPATCH, S.REGISTERED, "grid_worker"),
        (A.CLOSE, S.VERIFIED, "grid_worker"),
        (A.SELF_DISPOSE, S.REPORTED, "community_operator"),
        (A.SUSPEND, S.IN_PROGRESS, "community_operator"),
        (A.GRANT_EXTENSION, S.IN_PROGRESS, "grid_worker"),
        (A.VOID, S.REPORTED, "community_operator"),
        (A.SUPERVISE, S.REPORTED, "grid_worker"),
        (A.ACCEPT, S.REPORTED, "planner"),
        (A.ESCALATE, S.REPORTED, "community_operator"),
    ],
)
def test_role_not_allowed(action: Action, state: State, role: str) -> None:
    with pytest.raises(PermissionDeniedError, match=f"role {role} may not {action}"):
        apply(snapshot_for(state, action), action, role, POLICY, now=NOW, hours=4)


def test_unknown_role_rejected() -> None:
    with pytest.raises(InvalidInputError, match="unknown role 'mayor'"):
        apply(CaseSnapshot(S.REPORTED), A.ACCEPT, "mayor", POLICY)


def test_system_may_only_supervise_and_escalate() -> None:
    case = CaseSnapshot(S.IN_PROGRESS)
    assert allowed_actions(case, "system", POLICY) == [A.SUPERVISE, A.ESCALATE]


def test_worker_actions_on_own_case() -> None:
    worker = allowed_actions(CaseSnapshot(S.DISPATCHED), "grid_worker", POLICY)
    assert worker == [A.START, A.DISPOSE, A.RETURN, A.REQUEST_EXTENSION]


def test_self_dispose_only_for_small_categories() -> None:
    with pytest.raises(ConflictError, match="may not be self-disposed"):
        apply(CaseSnapshot(S.REPORTED, self_disposable=False), A.SELF_DISPOSE, "grid_worker", POLICY)


def test_extension_cap_and_single_pending_request() -> None:
    case = CaseSnapshot(S.IN_PROGRESS)
    for granted in (1, 2):
        case = apply(case, A.REQUEST_EXTENSION, "grid_worker", POLICY, hours=8).after
        with pytest.raises(ConflictError, match="already pending"):
            apply(case, A.REQUEST_EXTENSION, "grid_worker", POLICY, hours=8)
        case = apply(case, A.GRANT_EXTENSION, "street_operator", POLICY).after
        assert case.extensions_granted == granted and case.extension_requested_hours is None
    with pytest.raises(ConflictError, match="extension cap reached: 2"):
        apply(case, A.REQUEST_EXTENSION, "grid_worker", POLICY, hours=8)


def test_extension_hours_bounded_and_deny_needs_request() -> None:
    case = CaseSnapshot(S.IN_PROGRESS)
    for hours in (0, -1, 17, None):
        with pytest.raises(InvalidInputError, match="extension must be > 0 and <= 16"):
            apply(case, A.REQUEST_EXTENSION, "grid_worker", POLICY, hours=hours)
    with pytest.raises(ConflictError, match="no extension request is pending"):
        apply(case, A.DENY_EXTENSION, "street_operator", POLICY)


def test_suspend_then_resume_returns_to_previous_state() -> None:
    for before in (S.REGISTERED, S.DISPATCHED, S.IN_PROGRESS):
        suspended = apply(CaseSnapshot(before), A.SUSPEND, "street_operator", POLICY, now=NOW).after
        assert (suspended.state, suspended.suspended_from, suspended.suspended_at) == (
            S.SUSPENDED,
            before,
            NOW,
        )
        resumed = apply(suspended, A.RESUME, "street_operator", POLICY).after
        assert (resumed.state, resumed.suspended_from) == (before, None)


def test_rework_counts_and_restarts_clock() -> None:
    step = apply(CaseSnapshot(S.DISPOSED), A.REWORK, "grid_worker", POLICY)
    assert step.after.rework_count == 1 and step.restarts_clock
    start = apply(CaseSnapshot(S.DISPATCHED), A.START, "grid_worker", POLICY)
    assert not start.restarts_clock  # still the dispose stage
    dispose = apply(start.after, A.DISPOSE, "grid_worker", POLICY)
    assert dispose.restarts_clock  # verification stage starts


def test_supervision_once_and_escalation_ladder() -> None:
    case = apply(CaseSnapshot(S.ACCEPTED), A.SUPERVISE, "system", POLICY).after
    assert case.supervised
    with pytest.raises(ConflictError, match="already under supervision"):
        apply(case, A.SUPERVISE, "district_operator", POLICY)
    case = apply(case, A.ESCALATE, "system", POLICY).after
    assert case.level is Level.STREET
    case = apply(case, A.ESCALATE, "system", POLICY).after
    assert case.level is Level.DISTRICT
    with pytest.raises(ConflictError, match="already escalated to the district"):
        apply(case, A.ESCALATE, "system", POLICY)


def test_full_happy_path() -> None:
    case = CaseSnapshot(S.REPORTED)
    path = [
        (A.ACCEPT, "community_operator"),
        (A.REGISTER, "community_operator"),
        (A.DISPATCH, "community_operator"),
        (A.START, "grid_worker"),
        (A.DISPOSE, "grid_worker"),
        (A.VERIFY, "grid_worker"),
        (A.CLOSE, "street_operator"),
    ]
    for action, role in path:
        case = apply(case, action, role, POLICY).after
    assert case.state is S.CLOSED
    assert allowed_actions(case, "admin", POLICY) == []

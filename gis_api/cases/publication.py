"""Which cases the public sees: an operator publishes a case on the Open311 feed or withdraws it.

Residents' reports are public from the start (gis_api.cases.service.PUBLIC_SOURCES); operator,
patrol and hotline cases are internal until an operator of their area publishes them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gis_api.cases.models import Case
from gis_api.cases.service import Actor, lock_case, log_event, now_utc
from gis_api.cases.workflow import OPERATORS, State
from gis_api.errors import PermissionDeniedError


def set_public(session: Session, case_id: int, actor: Actor, public: bool, note: str = "") -> Case:
    """Publish a case on the Open311 feed or withdraw it (operators of its area); logged."""
    if actor.role not in OPERATORS:
        raise PermissionDeniedError(f"role {actor.role} may not publish or withdraw cases")
    case = lock_case(session, case_id, actor)
    if case.public != public:
        case.public, now = public, now_utc()
        case.updated_at = now
        state = State(case.state)
        action = "publish" if public else "unpublish"
        log_event(session, case, actor, action, state, state, now, note, details={"public": public})
    return case

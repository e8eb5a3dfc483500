"""Separation of duties beyond the workflow's role table: whoever disposed a case may not verify it.

A verification is the second pair of eyes on a disposal (处置 → 核查); if the same account (or, for
actors without accounts such as the simulation's, the same name) did both, the check means nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.models import Case
from gis_api.cases.workflow import SYSTEM
from gis_api.errors import PermissionDeniedError

if TYPE_CHECKING:
    from gis_api.cases.service import Actor

DISPOSER_SQL = """
SELECT actor, actor_user_id FROM case_event
WHERE case_id = :c AND action IN ('dispose', 'self_dispose') ORDER BY id DESC LIMIT 1
"""


def disposed_by(session: Session, case: Case, actor: Actor) -> bool:
    """True when the actor recorded the case's latest disposal (by account, or by name for
    accounts-less actors such as the simulation's)."""
    row = session.execute(text(DISPOSER_SQL), {"c": case.id}).one_or_none()
    if row is None or actor.role == SYSTEM:
        return False
    if actor.user_id is not None and row.actor_user_id is not None:
        return bool(row.actor_user_id == actor.user_id)
    return bool(row.actor == actor.username)


def check_not_disposer(session: Session, case: Case, actor: Actor) -> None:
    """Separation of duties: whoever disposed a case may not also verify it (403 with the reason)."""
    if disposed_by(session, case, actor):
        raise PermissionDeniedError(
            f"separation of duties: you disposed case {case.id}, so someone else must verify it"
        )

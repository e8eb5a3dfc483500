"""Write a notification into the outbox in the same transaction as the state change it announces.

If the transition rolls back, so does its notification; if it commits, the notification is there
for the worker (gis_api.notify.worker) however long the receiver is down. Only reports that came
in through a public channel are notified, and the payload holds no personal data: the receiver
(a 12345 platform, a messaging gateway) maps the report number to whoever is subscribed to it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import district_prefix

if TYPE_CHECKING:
    from gis_api.cases.models import Case, CaseEvent

PUBLIC_SOURCES = frozenset({"open311", "hotline"})
"""Channels whose reporters expect to hear back."""
CLOSED_STATES = frozenset({"closed", "void"})
INSERT_SQL = """
INSERT INTO notification_outbox (case_id, event_id, kind, payload)
VALUES (:case_id, :event_id, 'case.state', CAST(:payload AS jsonb))
"""


def state_change_payload(case: Case, event: CaseEvent) -> dict[str, object]:
    """What the receiver learns: the report number, its Open311 jurisdiction (the district holding
    it), the new state and when (no names, no contacts)."""
    return {
        "service_request_id": case.id,
        "jurisdiction_id": district_prefix(case.grid_code),
        "event_id": event.id,
        "service_code": case.category_code,
        "from_state": event.from_state,
        "state": event.to_state,
        "status": "closed" if event.to_state in CLOSED_STATES else "open",
        "at": event.at.isoformat(),
    }


def enqueue_state_change(session: Session, case: Case, event: CaseEvent) -> bool:
    """Queue a notification for a public report whose state changed; True when one was queued."""
    if case.source not in PUBLIC_SOURCES or event.from_state == event.to_state:
        return False
    payload = json.dumps(state_change_payload(case, event), ensure_ascii=False)
    session.execute(text(INSERT_SQL), {"case_id": case.id, "event_id": event.id, "payload": payload})
    return True

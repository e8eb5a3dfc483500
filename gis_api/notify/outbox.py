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
from gis_api.cases.calendar import local_iso

if TYPE_CHECKING:
    from gis_api.cases.models import Case, CaseEvent

NOTIFIED_SOURCES = frozenset({"open311", "hotline"})
"""Channels whose reporters expect to hear back (not the same as being on the public Open311 feed:
gis_api.cases.service.PUBLIC_SOURCES; a hotline caller hears back, the call is not published)."""
CLOSED_STATES = frozenset({"closed", "void"})
INSERT_SQL = """
INSERT INTO notification_outbox (case_id, event_id, kind, payload)
VALUES (:case_id, :event_id, 'case.state', CAST(:payload AS jsonb))
"""


def state_change_payload(case: Case, event: CaseEvent) -> dict[str, object]:
    """What the receiver learns: the report number, its Open311 jurisdiction (the district holding
    it), the new state and when (no names, no contacts). Times are Beijing time (the working
    calendar's zone), like the Open311 feed; `expected_datetime` is the current stage's deadline as
    the feed gives it, and stays empty while the deadline is uncertain (counted past the years the
    working calendar covers), which `deadline_uncertain` says."""
    closed = event.to_state in CLOSED_STATES
    uncertain = bool(case.deadline_uncertain) and not closed
    return {
        "service_request_id": case.id,
        "jurisdiction_id": district_prefix(case.grid_code),
        "event_id": event.id,
        "service_code": case.category_code,
        "from_state": event.from_state,
        "state": event.to_state,
        "status": "closed" if closed else "open",
        "at": local_iso(event.at),
        "expected_datetime": None if closed or uncertain else local_iso(case.stage_deadline),
        "deadline_uncertain": uncertain,
    }


def enqueue_state_change(session: Session, case: Case, event: CaseEvent) -> bool:
    """Queue a notification for a public report whose state changed; True when one was queued."""
    if case.source not in NOTIFIED_SOURCES or event.from_state == event.to_state:
        return False
    payload = json.dumps(state_change_payload(case, event), ensure_ascii=False)
    session.execute(text(INSERT_SQL), {"case_id": case.id, "event_id": event.id, "payload": payload})
    return True

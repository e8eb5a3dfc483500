"""Publish a live event inside the caller's transaction: a live_event row plus pg_notify.

PostgreSQL delivers NOTIFY only when the transaction commits (and drops it on rollback), so a
listener never hears of a change that did not happen, and the row lets reconnecting clients
replay what they missed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "wangge_events"
MAX_NOTIFY_BYTES = 7000
"""NOTIFY payloads are limited to 8000 bytes; larger events are sent as a reference and read back."""

INSERT_SQL = """
INSERT INTO live_event (kind, case_id, member_id, grid_code, payload)
VALUES (:kind, :case_id, :member_id, :grid_code, CAST(:payload AS jsonb))
RETURNING id, at
"""


def publish(
    session: Session,
    kind: str,
    grid_code: str,
    payload: dict[str, Any],
    *,
    case_id: int | None = None,
    member_id: int | None = None,
) -> int:
    """Store and notify one event (delivered at commit); returns its id."""
    body = json.dumps(payload, ensure_ascii=False, default=str)
    row = session.execute(
        text(INSERT_SQL),
        {"kind": kind, "case_id": case_id, "member_id": member_id, "grid_code": grid_code, "payload": body},
    ).one()
    event = {
        "id": int(row[0]),
        "at": row[1].isoformat(),
        "kind": kind,
        "case_id": case_id,
        "member_id": member_id,
        "grid_code": grid_code,
        "data": payload,
    }
    message = json.dumps(event, ensure_ascii=False, default=str)
    if len(message.encode()) > MAX_NOTIFY_BYTES:
        message = json.dumps({"id": event["id"], "ref": True})
    session.execute(text("SELECT pg_notify(:channel, :message)"), {"channel": CHANNEL, "message": message})
    return int(row[0])

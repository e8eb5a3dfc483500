"""Deliver the outbox: oldest due first, one row at a time, each in its own transaction.

The row is locked (FOR UPDATE SKIP LOCKED) while it is handed over, so several workers never send
the same notification at once; it is marked delivered in the same transaction, so a delivery is
recorded once. A crash between the hand-over and the commit sends it again on the next run, with
the same X-Wangge-Delivery id: at-least-once delivery that an idempotent receiver sees once.
Failures are retried with exponential backoff until `max_attempts`, then the row is marked failed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, text

from gis_api.cases.service import now_utc
from gis_api.notify.notifiers import DeliveryError, Notification, Notifier

BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0
CLAIM_SQL = """
SELECT id, case_id, kind, payload, attempts FROM notification_outbox
WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= :now
ORDER BY next_attempt_at, id LIMIT 1
FOR UPDATE SKIP LOCKED
"""
DELIVERED_SQL = """
UPDATE notification_outbox SET delivered_at = :now, delivered_by = :by, attempts = attempts + 1,
       last_error = '' WHERE id = :id
"""
RETRY_SQL = """
UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = :next, last_error = :error,
       failed_at = CASE WHEN :give_up THEN CAST(:now AS timestamptz) END
WHERE id = :id
"""
STATUS_SQL = """
SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
       count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
       count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending
FROM notification_outbox
"""


class Database(Protocol):
    """What the worker needs of an Engine: a transaction per notification."""

    def begin(self) -> AbstractContextManager[Connection]: ...


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 10 s, 20 s, 40 s ... at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


@dataclass
class DeliveryReport:
    """What a worker did: counts per outcome ('delivered', 'retry', 'failed')."""

    outcomes: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        counts = self.outcomes
        return f"{counts['delivered']} delivered, {counts['retry']} to retry, {counts['failed']} given up"


def deliver_one(
    engine: Database, notifier: Notifier, max_attempts: int, now: datetime | None = None
) -> tuple[str, Notification] | None:
    """Deliver the oldest due notification; (outcome, notification), or None when none is due."""
    moment = now or now_utc()
    with engine.begin() as connection:
        row = connection.execute(text(CLAIM_SQL), {"now": moment}).one_or_none()
        if row is None:
            return None
        notification = Notification(row.id, row.case_id, row.kind, dict(row.payload), row.attempts + 1)
        try:
            notifier.deliver(notification)
        except DeliveryError as error:
            return _failed(connection, notification, str(error), max_attempts, moment), notification
        connection.execute(text(DELIVERED_SQL), {"now": moment, "by": notifier.name, "id": row.id})
        return "delivered", notification


def _failed(
    connection: Connection, notification: Notification, error: str, max_attempts: int, now: datetime
) -> str:
    give_up = notification.attempt >= max_attempts
    params = {"id": notification.id, "error": error[:500], "give_up": give_up, "now": now}
    connection.execute(text(RETRY_SQL), {**params, "next": now + backoff(notification.attempt)})
    return "failed" if give_up else "retry"


def deliver_due(
    engine: Database, notifier: Notifier, max_attempts: int, say: Callable[[str], None] = print
) -> DeliveryReport:
    """Deliver every notification due now (each failing one is tried once per call)."""
    report = DeliveryReport()
    while (result := deliver_one(engine, notifier, max_attempts)) is not None:
        outcome, notification = result
        report.outcomes[outcome] += 1
        say(f"[notify] #{notification.id} case {notification.case_id} try {notification.attempt}: {outcome}")
    return report


def run_worker(
    engine: Database,
    notifier: Notifier,
    max_attempts: int,
    interval_s: float = 2.0,
    stop: threading.Event | None = None,
    say: Callable[[str], None] = print,
) -> DeliveryReport:
    """Deliver what is due, then wait `interval_s`, until `stop` is set."""
    stop = stop or threading.Event()
    total = DeliveryReport()
    while not stop.is_set():
        total.outcomes.update(deliver_due(engine, notifier, max_attempts, say).outcomes)
        stop.wait(interval_s)
    return total


def outbox_status(connection: Connection) -> dict[str, int]:
    """Delivered, failed and pending notifications."""
    row = connection.execute(text(STATUS_SQL)).mappings().one()
    return {key: int(value) for key, value in row.items()}

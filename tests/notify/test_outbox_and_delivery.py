"""Notifications of residents' reports: written with the state change, delivered by the worker to a
webhook on a tiny local HTTP server (127.0.0.1), retried with backoff, recorded once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.cases.service import now_utc
from gis_api.config import Settings
from gis_api.errors import InvalidInputError
from gis_api.notify.notifiers import LogNotifier, Notification, WebhookNotifier, load_notifier
from gis_api.notify.worker import backoff, deliver_due, deliver_one, outbox_status
from tests import tiny_district
from tests.residents.helpers import resident_report
from tests.security.api_world import Api


class Receiver(BaseHTTPRequestHandler):
    """Answers the first `fail` POSTs with 503, then 204; keeps what it received."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    fail = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = 503 if len(type(self).received) <= type(self).fail else 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("TestReceiver", (Receiver,), {"received": [], "fail": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


class Bound:
    """Runs the worker on the test's connection (its transaction is rolled back afterwards)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.connection.begin_nested():
            yield self.connection


def outbox(session: Session) -> list[Any]:
    return session.execute(text("SELECT * FROM notification_outbox ORDER BY id")).all()


def test_state_changes_of_resident_reports_are_queued_in_their_transaction(
    api: Api, db_session: Session
) -> None:
    case_id = resident_report(api)["service_request_id"]
    staff = api.as_("admin").report().json()["id"]  # an operator's own case: nobody to notify
    api.as_("admin").post(f"/cases/{staff}/actions/accept", {})
    api.as_("admin").post(f"/cases/{case_id}/actions/accept", {})
    rows = outbox(db_session)
    assert [(r.case_id, r.payload["state"]) for r in rows] == [(case_id, "reported"), (case_id, "accepted")]
    assert set(rows[1].payload) == {
        "service_request_id",
        "jurisdiction_id",
        "event_id",
        "service_code",
        "from_state",
        "state",
        "status",
        "at",
        "expected_datetime",
        "deadline_uncertain",
    }
    assert rows[1].payload["jurisdiction_id"] == tiny_district.DISTRICT
    assert rows[1].payload["at"].endswith("+08:00")  # Beijing time, the working calendar's zone
    assert rows[1].payload["expected_datetime"].endswith("+08:00")  # the register deadline
    assert rows[1].payload["deadline_uncertain"] is False
    refused = api.as_("admin").post(f"/cases/{case_id}/actions/close", {})
    assert refused.status_code == 409 and len(outbox(db_session)) == 2  # no change, no notification


def test_webhook_delivery_with_retries_backoff_and_signature(
    api: Api, db_session: Session, connection: Connection, receiver: tuple[str, type[Receiver]]
) -> None:
    url, handler = receiver
    handler.fail = 1
    case_id = resident_report(api)["service_request_id"]
    db_session.flush()
    notifier = WebhookNotifier(url, secret="s3cret", timeout_s=5)
    engine = Bound(connection)
    start = now_utc() + timedelta(seconds=1)
    first = deliver_one(engine, notifier, max_attempts=3, now=start)
    assert first is not None and first[0] == "retry" and first[1].case_id == case_id
    assert deliver_one(engine, notifier, 3, now=start + timedelta(seconds=5)) is None
    second = deliver_one(engine, notifier, 3, now=start + backoff(1))
    assert second is not None and second[0] == "delivered"
    assert deliver_one(engine, notifier, 3, now=start + timedelta(hours=2)) is None
    [row] = outbox(db_session)
    assert (row.attempts, row.delivered_by, row.last_error) == (2, "webhook", "")
    headers, body = handler.received[-1]
    assert len(handler.received) == 2 and headers["X-Wangge-Delivery"] == str(row.id)
    assert headers["X-Wangge-Signature"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    document = json.loads(body)
    assert document["case_id"] == case_id and "已收到" in document["text"]


def test_gives_up_after_max_attempts(api: Api, db_session: Session, connection: Connection) -> None:
    resident_report(api)
    db_session.flush()
    dead = WebhookNotifier("http://127.0.0.1:9/nothing-listens", timeout_s=1)
    later = now_utc() + timedelta(days=1)
    results = [deliver_one(Bound(connection), dead, 2, now=later + backoff(8) * n) for n in range(2)]
    assert [result[0] if result else None for result in results] == ["retry", "failed"]
    assert outbox_status(connection) == {"delivered": 0, "failed": 1, "pending": 0}
    assert "unreachable" in outbox(db_session)[0].last_error


def test_log_notifier_and_choosing_a_notifier(
    api: Api,
    db_session: Session,
    connection: Connection,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    resident_report(api)
    db_session.flush()
    caplog.set_level("INFO", logger="wangge.notify")
    lines: list[str] = []
    report = deliver_due(Bound(connection), LogNotifier(), 3, say=lines.append)
    assert report.outcomes["delivered"] == 1 and "已收到" in caplog.text and len(lines) == 1
    assert isinstance(load_notifier(settings), LogNotifier)
    hook = settings.model_copy(update={"notify_webhook_url": "http://127.0.0.1:1/x"})
    assert isinstance(load_notifier(hook), WebhookNotifier)
    custom = settings.model_copy(update={"notifier": "gis_api.notify.notifiers:LogNotifier"})
    assert isinstance(load_notifier(custom), LogNotifier)
    for wrong in ("no.such.module:Sms", "gis_api.notify.notifiers:Nothing", "webhook"):
        with pytest.raises(InvalidInputError):
            load_notifier(settings.model_copy(update={"notifier": wrong}))


def test_message_text() -> None:
    closed = Notification(1, 42, "case.state", {"state": "closed"}, 1)
    assert closed.text() == "您反映的问题（编号 42）已办结，欢迎评价。"
    assert backoff(1) == timedelta(seconds=10) and backoff(4) == timedelta(seconds=80)
    assert backoff(20) == timedelta(hours=1)

"""Notifiers: where a queued notification goes. One interface, three kinds.

- LogNotifier (the default): writes one line per notification to the log.
- WebhookNotifier: POSTs JSON to `notify_webhook_url`, with `X-Wangge-Delivery` (the outbox id,
  the same on every retry, so the receiver can drop a repeat) and, when `notify_webhook_secret` is
  set, `X-Wangge-Signature: sha256=<HMAC of the body>`. Any 2xx answer counts as delivered.
- Your own, e.g. an SMS provider: set `WANGGE_NOTIFIER=package.module:ClassName`. The class is
  called with the settings and needs a `name` and `deliver(notification)`, raising DeliveryError
  when the provider refuses or is unreachable (the worker then retries with backoff). The payload
  carries no phone number: an SMS notifier looks the subscriber up by `notification.case_id` in
  its own store (or the intake's contact record) and sends `notification.text()`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol

from gis_api.config import Settings
from gis_api.errors import InvalidInputError

log = logging.getLogger("wangge.notify")
TIMEOUT_S = 10.0
STATE_TEXT = {
    "reported": "已收到",
    "accepted": "已受理",
    "registered": "已立案",
    "dispatched": "已派遣网格员处理",
    "in_progress": "正在处置",
    "disposed": "已处置，等待核查",
    "verified": "已核查",
    "returned": "重新派遣中",
    "suspended": "暂缓处理",
    "closed": "已办结，欢迎评价",
    "void": "已作废",
}


class DeliveryError(Exception):
    """The receiver did not take the notification; the worker retries later."""


@dataclass(frozen=True)
class Notification:
    """One outbox row as handed to a notifier."""

    id: int
    case_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int

    def text(self) -> str:
        """The message a resident reads, e.g. '您反映的问题（编号 123）已受理。'."""
        state = str(self.payload.get("state", ""))
        return f"您反映的问题（编号 {self.case_id}）{STATE_TEXT.get(state, state)}。"

    def body(self) -> bytes:
        document = {"id": self.id, "kind": self.kind, "case_id": self.case_id, "text": self.text()}
        return json.dumps({**document, "payload": self.payload}, ensure_ascii=False).encode()


class Notifier(Protocol):
    name: str

    def deliver(self, notification: Notification) -> None:
        """Hand the notification over, or raise DeliveryError."""


class LogNotifier:
    """Writes each notification to the log (the default: nothing leaves the machine)."""

    name = "log"

    def __init__(self, settings: Settings | None = None) -> None:
        pass

    def deliver(self, notification: Notification) -> None:
        log.info("notify #%d case %d: %s", notification.id, notification.case_id, notification.text())


class WebhookNotifier:
    """POSTs each notification as JSON to a URL."""

    name = "webhook"

    def __init__(self, url: str, secret: str = "", timeout_s: float = TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInputError(f"notify webhook URL {url[:80]!r} must start with http:// or https://")
        self.url, self.secret, self.timeout_s = url, secret.encode(), timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookNotifier:
        return cls(settings.notify_webhook_url, settings.notify_webhook_secret)

    def headers(self, notification: Notification, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "wangge-notify/1"}
        headers["X-Wangge-Delivery"] = str(notification.id)
        if self.secret:
            digest = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            headers["X-Wangge-Signature"] = f"sha256={digest}"
        return headers

    def deliver(self, notification: Notification) -> None:
        body = notification.body()
        request = urllib.request.Request(self.url, body, self.headers(notification, body), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"webhook answered HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise DeliveryError(f"webhook unreachable: {error}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")


def load_notifier(settings: Settings) -> Notifier:
    """The notifier the settings name (see the module docstring)."""
    choice = settings.notifier or ("webhook" if settings.notify_webhook_url else "log")
    if choice == "log":
        return LogNotifier(settings)
    if choice == "webhook":
        return WebhookNotifier.from_settings(settings)
    return _custom(choice, settings)


def _custom(path: str, settings: Settings) -> Notifier:
    module_name, _, class_name = path.partition(":")
    try:
        factory = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise InvalidInputError(
            f"notifier {path!r}: expected 'log', 'webhook' or an importable 'package.module:ClassName'"
        ) from None
    notifier = factory(settings)
    if not callable(getattr(notifier, "deliver", None)):
        raise InvalidInputError(f"notifier {path!r} has no deliver(notification) method")
    return notifier

"""Plain ASGI middleware that guards every request and response (no BaseHTTPMiddleware: that would
add a task and a stream per request).

- RequestGuard: remembers the client address for the audit log, answers 413 to bodies over the
  route's limit (Content-Length or counted while streaming), and refuses JSON bodies that are
  nested too deeply or carry NaN/Infinity before any endpoint parses them.
- SecurityHeaders: CSP, frame-ancestors, Referrer-Policy, nosniff, Permissions-Policy on every
  response, and `Cache-Control: no-store` on personal data. A response that already carries a
  Content-Security-Policy keeps it (the plan report's sandboxed policy, gis_api.plans.reports).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIB = 1024 * 1024
DEFAULT_BODY_LIMIT = 1 * MIB
BODY_LIMITS = {"/media": 6 * MIB, "/open311/v2/requests": 6 * MIB}
"""Larger limits by path prefix: photo uploads (5 MB images plus multipart framing)."""
MAX_JSON_DEPTH = 32

_client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


def client_address() -> str | None:
    """The address of the client whose request is being served (None outside a request)."""
    return _client_address.get()


def body_limit(path: str) -> int:
    """Largest request body accepted on `path`, in bytes."""
    for prefix, limit in BODY_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


def json_problem(body: bytes) -> str | None:
    """Why a JSON body is refused before parsing (NaN/Infinity, nesting), or None.

    Malformed JSON is left to the endpoint, which answers it in its own format."""

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a valid JSON number")

    try:
        document = json.loads(body, parse_constant=reject_constant)
    except RecursionError:
        return f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as error:
        return str(error) if "not a valid JSON number" in str(error) else None
    return None if _depth_ok(document) else f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"


def _depth_ok(document: Any) -> bool:
    """True when no array or object is nested more than MAX_JSON_DEPTH levels (iteratively)."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    return False
                stack.append((child, depth + 1))
    return True


async def _send_json(send: Send, status: int, detail: Any) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class RequestGuard:
    """Client address, body size limit and strict JSON for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        _client_address.set(str(client[0]) if client else None)
        limit = body_limit(str(scope.get("path", "")))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_json(send, 413, f"request body larger than {limit} bytes")
            return
        if _is_json(scope):
            await self._strict_json(scope, receive, send, limit)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the body through, counting; once it passes the limit the client gets 413 (unless a
        response began) and the application sees a disconnect, whose answer is dropped."""
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started and not refused:
                        refused = True
                        await _send_json(send, 413, f"request body larger than {limit} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)

    async def _strict_json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read the whole (bounded) JSON body, check it, then replay it to the application."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # disconnected: let the app see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, f"request body larger than {limit} bytes")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        problem = json_problem(body) if body else None
        if problem is not None:
            await _send_json(
                send, 422, [{"type": "json_invalid", "loc": ["body"], "msg": f"body: {problem}"}]
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# Responses that carry personal data or credentials must not be kept by browsers or proxies.
NO_STORE_PREFIXES = (
    "/households",
    "/auth",
    "/cases",
    "/positions",
    "/visits",
    "/assessment",
    "/open311",
    "/members",
    "/media",
    "/events",
    "/tiles/households",
    "/residents",
    "/hotline",
    "/search",
    "/exports",
    "/analytics",
)
DOCS_PATHS = ("/docs", "/redoc")
"""FastAPI's interactive docs load Swagger UI with an inline script: they get a looser policy."""


def content_security_policy(tile_origins: Sequence[str] = ()) -> str:
    """The pages load only our /static modules; images may also come from the configured basemap's
    tile origins (gis_api.basemaps.Basemap.tile_origins: each host spelled out, no wildcard)."""
    images = ["'self'", "data:", "blob:", *tile_origins]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()",
}
OPENER_POLICY = ("Cross-Origin-Opener-Policy", "same-origin")


def trustworthy_origin(scope: Scope) -> bool:
    """HTTPS or a loopback host: the only origins where browsers honour (rather than log an error
    about) Cross-Origin-Opener-Policy, so the header goes only there."""
    if scope.get("scheme") == "https":
        return True
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in ("localhost", "[::1]") or name.startswith("127.")


class SecurityHeaders:
    """Security headers on every HTTP response; no-store on personal data."""

    def __init__(self, app: ASGIApp, tile_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.policy = content_security_policy(tile_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        no_store = path.startswith(NO_STORE_PREFIXES)
        policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else self.policy
        trustworthy = trustworthy_origin(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STATIC_HEADERS.items():
                    headers[name] = value
                if trustworthy:
                    headers[OPENER_POLICY[0]] = OPENER_POLICY[1]
                # a route that serves its own kind of document sets its own policy (the plan report:
                # sandboxed into an opaque origin, its inline scripts allowed): never replace it
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

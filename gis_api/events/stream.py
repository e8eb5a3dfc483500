"""Server-sent events for one client: scope filter, replay after Last-Event-ID, then live events.

Event ids are live_event ids. Transactions can commit out of id order, so a resume replays every
event after the client's last id plus the few with smaller ids whose transactions were still
running when that event was published; a client may therefore see an id twice, never miss one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gis_api.auth.scope import Principal, ScopeLevel
from gis_api.events.hub import EventHub

KEEPALIVE_S = 15.0
REVALIDATE_S = 60.0
"""An open stream re-checks its account this often (and at once on a revocation NOTIFY)."""
REPLAY_LIMIT = 5000
RETRY_MS = 2000

REPLAY_SQL = """
WITH anchor AS (SELECT at, snapshot_xmin FROM live_event WHERE id = :after)
SELECT id, at, kind, case_id, member_id, grid_code, payload FROM live_event e
WHERE (e.id > :after
       OR (e.id <= :after AND e.id > :after - 10000
           AND e.tx >= (SELECT snapshot_xmin FROM anchor)
           AND e.at >= (SELECT at FROM anchor) - interval '60 seconds'))
  AND ({scope})
ORDER BY e.id
LIMIT :limit
"""


@dataclass(frozen=True)
class Audience:
    """Which events a caller may see: their area, and (grid workers) everything about themselves."""

    scope_code: str
    level: ScopeLevel
    member_id: int | None

    @classmethod
    def of(cls, principal: Principal, member_id: int | None) -> Audience:
        return cls(principal.scope_code, principal.level, member_id)

    def matches(self, event: dict[str, Any]) -> bool:
        if self.member_id is not None and event.get("member_id") == self.member_id:
            return True
        grid = str(event.get("grid_code") or "")
        if self.level is ScopeLevel.GRID:
            return grid == self.scope_code
        return grid.startswith(self.scope_code)

    def sql(self) -> str:
        """The same test in SQL (codes are digits only, so they are safe to inline)."""
        own = f"e.member_id = {int(self.member_id)} OR " if self.member_id is not None else ""
        if self.level is ScopeLevel.GRID:
            return f"{own}e.grid_code = '{self.scope_code}'"
        return f"{own}e.grid_code LIKE '{self.scope_code}%'"


def replay(
    sessions: sessionmaker[Session], audience: Audience, after: int
) -> tuple[list[dict[str, Any]], bool]:
    """Events to resend after `after`, and whether the anchor fell out of the retained window."""
    assert audience.scope_code.isdigit()
    with sessions() as session:
        rows = session.execute(
            text(REPLAY_SQL.format(scope=audience.sql())), {"after": after, "limit": REPLAY_LIMIT}
        ).all()
        oldest = session.execute(text("SELECT min(id) FROM live_event")).scalar()
    gap = oldest is not None and after < int(oldest) - 1
    return [_event(row) for row in rows], gap


def newest_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.execute(text("SELECT coalesce(max(id), 0) FROM live_event")).scalar_one())


def fetch(sessions: sessionmaker[Session], event_id: int) -> dict[str, Any] | None:
    """An event too large for NOTIFY, read back from the table."""
    with sessions() as session:
        row = session.execute(
            text("SELECT id, at, kind, case_id, member_id, grid_code, payload FROM live_event WHERE id = :i"),
            {"i": event_id},
        ).one_or_none()
    return _event(row) if row is not None else None


def _event(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "at": row.at.isoformat(),
        "kind": row.kind,
        "case_id": row.case_id,
        "member_id": row.member_id,
        "grid_code": row.grid_code,
        "data": row.payload,
    }


def sse(event: dict[str, Any]) -> str:
    """One SSE message: id, event type (case/position) and the JSON data."""
    data = json.dumps(event, ensure_ascii=False, default=str)
    return f"id: {event['id']}\nevent: {event['kind']}\ndata: {data}\n\n"


REVOKED = 'event: revoked\ndata: {"reason": "the session was ended: log in again"}\n\n'


@dataclass(frozen=True)
class Holder:
    """Whose stream it is, and how to ask whether their session is still valid."""

    user_id: int
    still_valid: Callable[[], Awaitable[bool]]


async def event_stream(
    hub: EventHub,
    sessions: sessionmaker[Session],
    audience: Audience,
    last_event_id: int | None,
    max_seconds: float,
    disconnected: Callable[[], Any],
    holder: Holder | None = None,
) -> AsyncIterator[str]:
    """Replay after last_event_id, then live events, for at most max_seconds (clients reconnect).
    With a holder, the stream ends with a `revoked` event as soon as their session is ended."""
    subscription = hub.subscribe(audience.matches)  # subscribe first: nothing falls between the two
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    next_check = loop.time() + REVALIDATE_S
    last = last_event_id
    try:
        resuming = last is not None
        if last is None:
            last = await run_in_threadpool(newest_id, sessions)  # the cursor a resync starts from
        # the id lets a client that drops before its first event resume from here, not from nothing
        yield f"retry: {RETRY_MS}\nid: {last}\n: connected\n\n"
        if resuming:
            async for message, cursor in _replayed(sessions, audience, last):
                yield message
                last = cursor
        while (left := deadline - loop.time()) > 0:
            if holder is not None and loop.time() >= next_check:
                next_check = loop.time() + REVALIDATE_S
                if not await holder.still_valid():
                    yield REVOKED
                    return
            wait = min(left, KEEPALIVE_S)
            if holder is not None:
                wait = min(wait, max(0.01, next_check - loop.time()))
            try:
                event = await asyncio.wait_for(subscription.queue.get(), timeout=wait)
            except TimeoutError:
                if await disconnected():
                    return
                yield ": keep-alive\n\n"
                continue
            if "revoke" in event:
                if holder is not None and event["revoke"] == holder.user_id:
                    next_check = loop.time()  # re-check now (the account may have been re-enabled)
                continue
            if "resync" in event:
                async for message, cursor in _replayed(sessions, audience, last):
                    yield message
                    last = cursor
                continue
            if "ref" in event:
                fetched = await run_in_threadpool(fetch, sessions, int(event["id"]))
                if fetched is None or not audience.matches(fetched):
                    continue
                event = fetched
            last = int(event["id"])
            yield sse(event)
    finally:
        hub.unsubscribe(subscription)


async def _replayed(
    sessions: sessionmaker[Session], audience: Audience, after: int
) -> AsyncIterator[tuple[str, int]]:
    events, gap = await run_in_threadpool(replay, sessions, audience, after)
    last = after
    if gap:
        yield 'event: reset\ndata: {"reason": "events before the retained window were dropped"}\n\n', last
    for event in events:
        last = max(last, int(event["id"]))
        yield sse(event), last

"""One LISTEN connection per API process, fanning NOTIFY messages out to SSE subscribers (asyncio).

The connection is a plain psycopg2 connection watched with loop.add_reader, so no thread is tied
up. When it drops (database restart) the hub reconnects with back-off and tells every subscriber to
re-read the live_event table from the last event it sent, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
from sqlalchemy import Engine, text

from gis_api.events.publisher import CHANNEL

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
RETENTION = "24 hours"
PRUNE_EVERY_S = 600.0
RESYNC: dict[str, Any] = {"resync": True}
"""Queued instead of events when a subscriber may have missed some: re-read the table."""


@dataclass(eq=False)
class Subscription:
    """A client's queue and the scope test its events must pass."""

    matches: Callable[[dict[str, Any]], bool]
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, event: dict[str, Any]) -> None:
        """Queue a matching event (and every revocation notice: the stream checks whose it is); a
        client too slow to keep up is told to resync instead."""
        if "ref" not in event and "revoke" not in event and not self.matches(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class EventHub:
    """Listens on CHANNEL for the whole process; subscribers get parsed event dicts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.subscribers: set[Subscription] = set()
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, matches: Callable[[dict[str, Any]], bool]) -> Subscription:
        """Register a subscriber (starting the listener on first use)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        subscription = Subscription(matches)
        self.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _dsn(self) -> str:
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _connect(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(self._dsn())
        connection.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return connection

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.5
        last_prune = 0.0
        while True:
            try:
                connection = await loop.run_in_executor(None, self._connect)
            except psycopg2.Error as error:
                log.warning("event listener cannot connect (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.5
            self.connected.set()
            self._broadcast(RESYNC)  # anything published while we were away is in the table
            lost: asyncio.Future[None] = loop.create_future()
            loop.add_reader(connection.fileno(), self._drain, connection, lost)
            try:
                while not lost.done():
                    if loop.time() - last_prune > PRUNE_EVERY_S:
                        last_prune = loop.time()
                        await loop.run_in_executor(None, self._prune)
                    await asyncio.wait([lost], timeout=PRUNE_EVERY_S)
            finally:
                self.connected.clear()
                loop.remove_reader(connection.fileno())
                with contextlib.suppress(psycopg2.Error):
                    connection.close()

    def _drain(self, connection: psycopg2.extensions.connection, lost: asyncio.Future[None]) -> None:
        try:
            connection.poll()
        except psycopg2.Error as error:
            log.warning("event listener lost its connection: %s", error)
            if not lost.done():
                lost.set_result(None)
            return
        while connection.notifies:
            notify = connection.notifies.pop(0)
            try:
                event = json.loads(notify.payload)
            except ValueError:
                log.warning("ignoring a malformed event notification")
                continue
            self._broadcast(event)

    def _broadcast(self, event: dict[str, Any]) -> None:
        for subscription in list(self.subscribers):
            subscription.offer(event)

    def _prune(self) -> None:
        """Keep the table bounded: events older than RETENTION cannot be resumed anyway."""
        try:
            with self.engine.begin() as connection:
                connection.execute(text(f"DELETE FROM live_event WHERE at < now() - interval '{RETENTION}'"))
        except Exception as error:  # pruning is housekeeping: never let it kill the listener
            log.warning("could not prune live_event: %s", error)

"""A real API server (uvicorn in a thread) on its own committed database, for live-event and
concurrency tests that cannot run inside a rolled-back transaction."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_api.app import create_app
from gis_api.auth.service import create_user
from gis_api.config import Settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster, free_loopback_port
from gis_api.routing.engine import RoadGraph
from tests import tiny_district
from tests.api.app_fixtures import PASSWORD, USERS
from tests.cases import fixtures
from tests.cases.fixtures import World


@dataclass
class LiveServer:
    base_url: str
    world: World
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = httpx.post(
                f"{self.base_url}/auth/token", data={"username": username, "password": PASSWORD}, timeout=30
            )
            response.raise_for_status()
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def post(self, username: str, url: str, body: Any = None) -> httpx.Response:
        return httpx.post(f"{self.base_url}{url}", json=body, headers=self.headers(username), timeout=60)


def _seed(url: str) -> World:
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        world = fixtures.build(connection)
    with Session(engine) as session:
        for username, (role, scope) in USERS.items():
            create_user(session, username, PASSWORD, role, scope)
        session.execute(
            text("UPDATE app_user SET team_member_id = :m WHERE username = 'west_worker'"),
            {"m": world.members["worker"]},
        )
        session.commit()
    engine.dispose()
    return world


@pytest.fixture(scope="module")
def live_server(cluster: EmbeddedCluster) -> Iterator[LiveServer]:
    name = f"wangge_live_{os.getpid()}"
    cluster.drop_database(name)
    url = cluster.create_database(name)
    world = _seed(url)
    app = create_app(Settings(database_url=url))
    with app.state.engine.connect() as connection:
        app.state.road_graphs = {tiny_district.DISTRICT: RoadGraph.from_connection(connection)}
    port = free_loopback_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield LiveServer(f"http://127.0.0.1:{port}", world, url)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()
    cluster.drop_database(name)


class Listener:
    """Reads an SSE stream in a thread; events land in `events` as (id, type, data)."""

    def __init__(self, server: LiveServer, username: str, last_event_id: int | None = None) -> None:
        self.events: queue.Queue[tuple[int, str, dict[str, Any]]] = queue.Queue()
        self.connected = threading.Event()
        headers = server.headers(username)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.status: int | None = None
        self.connected_id: int | None = None
        """The id of the stream's 'connected' message: where a client resumes before any event."""
        url = f"{server.base_url}/events/stream?max_seconds=20"
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()
        assert self.connected.wait(15), "the event stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        with httpx.stream("GET", url, headers=headers, timeout=30) as response:
            self.status = response.status_code
            fields: dict[str, str] = {}
            greeting = False
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    greeting = True
                if not line:
                    if "data" in fields and "id" in fields:
                        self.events.put((int(fields["id"]), fields["event"], json.loads(fields["data"])))
                    elif greeting and not self.connected.is_set():
                        self.connected_id = int(fields["id"]) if "id" in fields else None
                        self.connected.set()
                    fields = {}
                elif not line.startswith(":"):
                    key, _, value = line.partition(": ")
                    fields[key] = value
        self.connected.set()

    def until(self, predicate: Any, timeout_s: float = 10) -> list[tuple[int, str, dict[str, Any]]]:
        """Events received until one satisfies predicate (inclusive); fails after timeout_s."""
        seen = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            seen.append(event)
            if predicate(event):
                return seen
        raise AssertionError(f"no matching event within {timeout_s} s; got {seen}")

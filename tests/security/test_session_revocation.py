"""`wangge user disable` over a real server: the account's open event stream ends at once (NOTIFY),
and its access and refresh tokens stop working."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from gis_api.auth.service import set_user_active
from tests.api.app_fixtures import PASSWORD
from tests.events.live import LiveServer, live_server

__all__ = ["live_server"]


def test_disabling_a_user_closes_their_event_stream(live_server: LiveServer) -> None:
    login = httpx.post(
        f"{live_server.base_url}/auth/token", data={"username": "east_op", "password": PASSWORD}, timeout=30
    ).json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    lines: list[str] = []
    opened, ended = threading.Event(), threading.Event()

    def read() -> None:
        url = f"{live_server.base_url}/events/stream?max_seconds=60"
        with httpx.stream("GET", url, headers=headers, timeout=70) as response:
            for line in response.iter_lines():
                lines.append(line)
                opened.set()
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    assert opened.wait(15), "the stream did not open"
    engine = create_engine(live_server.database_url)
    started = time.monotonic()
    with Session(engine) as session:
        set_user_active(session, "east_op", False)
    try:
        assert ended.wait(10), "the stream of a disabled account stayed open"
        assert time.monotonic() - started < 10
        assert "event: revoked" in lines
        assert httpx.get(f"{live_server.base_url}/auth/me", headers=headers, timeout=10).status_code == 401
        renewed = httpx.post(
            f"{live_server.base_url}/auth/refresh", data={"refresh_token": login["refresh_token"]}, timeout=10
        )
        assert renewed.status_code == 401
    finally:
        with Session(engine) as session:
            set_user_active(session, "east_op", True)
        engine.dispose()

"""Browser tests: a real API (uvicorn on 127.0.0.1, a free port) over a throwaway database holding a
tiny committed fixture, driven by Debian's headless Chromium through Playwright.

Every test fails on any browser console error or page error; a screenshot of each page is saved
under test-artifacts/. Run: `.venv/bin/pytest -m browser tests/browser`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    ViewportSize,
    sync_playwright,
)
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user
from gis_api.config import PROJECT_ROOT
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster, free_loopback_port
from gis_api.districts.service import record_layer
from gis_api.open311.keys import provision_residents_key
from tests import tiny_district
from tests.cases import fixtures as world_fixtures
from tests.plans.test_service import draft_split_east_west

CHROMIUM = os.environ.get("WANGGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
PASSWORD = "browser tests only"
# username -> (role, scope)
USERS = {
    "admin": ("admin", tiny_district.DISTRICT),
    "planner": ("planner", tiny_district.DISTRICT),
    "west_op": ("street_operator", tiny_district.WEST),
    "worker": ("grid_worker", world_fixtures.GRID_SW),
    "city": ("city_operator", tiny_district.CITY),
}
# The page is a phone of this size for the field app.
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass
class LiveApp:
    """The running API and what the fixture put in its database."""

    base_url: str
    engine: Engine
    members: dict[str, int]
    active_plan: int
    draft_plan: int
    var_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = httpx.post(
                f"{self.base_url}/auth/token", data={"username": username, "password": PASSWORD}
            )
            response.raise_for_status()
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def post(self, username: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        response = httpx.post(f"{self.base_url}{path}", json=body or {}, headers=self.headers(username))
        assert response.is_success, response.text
        return response

    def get(self, username: str, path: str) -> Any:
        response = httpx.get(f"{self.base_url}{path}", headers=self.headers(username))
        assert response.is_success, response.text
        return response.json()


def _fill(engine: Engine) -> tuple[dict[str, int], int, int]:
    """Tiny district (its households marked synthetic), road ladder, team members, a draft plan, a
    second district of the city, and one account per role."""
    with engine.begin() as connection:
        world = world_fixtures.build(connection)
        # only the grid worker is free in the south-west grid, so dispatch reaches the field app's user
        connection.execute(
            text("UPDATE team_member SET status = 'off_duty' WHERE id <> :w"), {"w": world.members["worker"]}
        )
        draft = draft_split_east_west(connection)
        active = connection.execute(
            text("SELECT plan_id FROM active_plan WHERE district_code = :d"), {"d": tiny_district.DISTRICT}
        ).scalar_one()
        tiny_district.build_other(connection)  # a second district of the city, for the city view
        record_layer(connection, tiny_district.DISTRICT, "households", synthetic=True, source="tests")
    with Session(engine) as session:
        for username, (role, scope) in USERS.items():
            create_user(session, username, PASSWORD, role, scope)
        session.execute(
            text("UPDATE app_user SET team_member_id = :m WHERE username = 'worker'"),
            {"m": world.members["worker"]},
        )
        session.commit()
    return world.members, int(active), draft


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the API did not answer /health within 30 s")


@pytest.fixture(scope="module")
def live_app(cluster: EmbeddedCluster, request: pytest.FixtureRequest) -> Iterator[LiveApp]:
    """A fresh database and API process per test module (tests inside a module share its data).

    A module may define `live_app_env(var_dir) -> dict` to add environment variables for its API."""
    name = f"wangge_browser_{os.getpid()}"
    cluster.drop_database(name)
    url = cluster.create_database(name)
    engine = create_engine(url)
    migrate.upgrade(engine)
    members, active, draft = _fill(engine)
    port = free_loopback_port()
    # uploads (and the token secret) go to a throwaway folder, never the installation's var/
    var_dir = Path(tempfile.mkdtemp(prefix="wangge-browser-"))
    with Session(engine) as session:  # the residents' page's channel key, as `wangge demo` makes it
        provision_residents_key(session, var_dir)
    env = {**os.environ, "WANGGE_DATABASE_URL": url, "WANGGE_BASEMAP_URL": "", "WANGGE_VAR_DIR": str(var_dir)}
    env |= getattr(request.module, "live_app_env", lambda folder: {})(var_dir)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "gis_api.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process)
        yield LiveApp(base_url, engine, members, active, draft, var_dir)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)
        engine.dispose()
        cluster.drop_database(name)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the session (a module may launch its own Chromium with it)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@dataclass
class Watched:
    """A page whose console errors, page errors and tile responses are collected."""

    page: Page
    errors: list[str]
    tiles: list[tuple[int, str]]


def _watch(page: Page) -> Watched:
    watched = Watched(page, [], [])

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def on_response(response: Response) -> None:
        if "/tiles/" in response.url:
            watched.tiles.append((response.status, response.url))

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    page.on("response", on_response)
    return watched


def _artifact_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)


@pytest.fixture
def open_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Watched]]:
    """open_page(viewport=..., **context options) -> Watched; screenshots and error check at the end."""
    contexts: list[BrowserContext] = []
    pages: list[Watched] = []

    def opener(viewport: ViewportSize | None = None, **options: Any) -> Watched:
        context = browser.new_context(viewport=viewport or {"width": 1400, "height": 860}, **options)
        contexts.append(context)
        watched = _watch(context.new_page())
        pages.append(watched)
        return watched

    yield opener
    ARTIFACTS.mkdir(exist_ok=True)
    for number, watched in enumerate(pages):
        watched.page.screenshot(path=str(ARTIFACTS / f"{_artifact_name(request)}_{number}.png"))
    for context in contexts:
        context.close()
    errors = [error for watched in pages for error in watched.errors]
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def log_in(watched: Watched, base_url: str, path: str, username: str) -> None:
    """Open a page, log in through its dialog and wait until it says it is ready."""
    page = watched.page
    page.goto(f"{base_url}{path}")
    page.fill("#wg-username", username)
    page.fill("#wg-password", PASSWORD)
    page.click(".wg-login button[type=submit]")
    page.wait_for_selector("body[data-ready='true']", timeout=15000)


def photo_file(tmp_path: Path) -> Path:
    """A tiny valid PNG to attach as a photo."""
    import base64

    path = tmp_path / "scene.png"
    path.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
        )
    )
    return path


def snapshot(watched: Watched, name: str) -> None:
    """Save a screenshot of the page as it is now under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    watched.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

"""Phones reach the server over the network, not loopback. Chromium maps the test name wangge.test
to 127.0.0.1 (no traffic leaves loopback), so the page's origin is a network one: over plain HTTP
it is not a secure context and the field app must say so on screen; over HTTPS with the certificate
`wangge tls self-signed` issued (trusted through the test's CA key) it is one: the offline
queue works end to end, and the service worker installs and starts the app offline."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from playwright.sync_api import Browser, Playwright

from gis_api.db.cluster import free_loopback_port
from gis_api.tls import spki_sha256, tls_files
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, LiveApp, Watched, log_in, snapshot
from tests.browser.test_field import offline_queue_flow, phone
from tests.browser.test_field_offline import offline_after_the_first_load

pytestmark = pytest.mark.browser
HOST = "wangge.test"


@dataclass(frozen=True)
class TlsServer:
    base_url: str
    ca_spki: str


def _command_env(live_app: LiveApp) -> dict[str, str]:
    url = live_app.engine.url.render_as_string(hide_password=False)
    return {**os.environ, "WANGGE_DATABASE_URL": url, "WANGGE_VAR_DIR": str(live_app.var_dir)}


def _wait_for_https(port: int, ca: Path, process: subprocess.Popen[bytes]) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False  # the certificate names wangge.test; the chain is still verified
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"wangge serve exited with {process.returncode}")
        try:
            if httpx.get(f"https://127.0.0.1:{port}/health", verify=context, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("wangge serve --tls-cert did not answer within 30 s")


@pytest.fixture(scope="module")
def tls_server(live_app: LiveApp) -> Iterator[TlsServer]:
    """`wangge tls self-signed --host wangge.test`, then `wangge serve --tls-cert --tls-key` on loopback."""
    env = _command_env(live_app)
    issued = subprocess.run(
        [sys.executable, "-m", "gis_api.cli", "tls", "self-signed", "--host", HOST],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    files = tls_files(live_app.var_dir)
    assert str(files.ca_cert) in issued.stdout and "Android" in issued.stdout and "iPhone" in issued.stdout
    port = free_loopback_port()
    command = [sys.executable, "-m", "gis_api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--tls-cert", str(files.server_cert), "--tls-key", str(files.server_key)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_https(port, files.ca_cert, process)
        ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        yield TlsServer(f"https://{HOST}:{port}", spki_sha256(ca))
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(playwright: Playwright, tls_server: TlsServer) -> Iterator[Browser]:
    """This module's Chromium: wangge.test resolves to 127.0.0.1, and certificates chaining to the
    test's CA are accepted (as on a phone that installed ca.crt), no others."""
    args = [
        *CHROMIUM_ARGS,
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
        f"--ignore-certificate-errors-spki-list={tls_server.ca_spki}",
    ]
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield chromium
    chromium.close()


def test_plain_http_over_the_network_says_it_cannot_work(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    port = urlsplit(live_app.base_url).port
    watched = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page = watched.page
    page.goto(f"http://{HOST}:{port}/field")
    page.wait_for_selector("body[data-secure='false']")
    assert page.evaluate("window.isSecureContext") is False
    warning = page.locator("#wg-insecure")
    assert warning.is_visible()
    assert "需要安全连接（HTTPS）" in warning.inner_text()
    assert f"http://{HOST}:{port}" in warning.inner_text()
    assert "crypto.randomUUID" in warning.inner_text()
    assert page.locator(".wg-login").count() == 0  # no password asked over plain HTTP
    assert not page.locator(".wg-tabs").is_visible()
    snapshot(watched, "field_insecure_http_zh")
    page.click("#wg-lang")
    page.wait_for_selector("body[data-secure='false']")
    assert "A secure connection (HTTPS) is needed" in page.locator("#wg-insecure").inner_text()


def test_https_is_a_secure_context_and_the_offline_queue_works(
    live_app: LiveApp, tls_server: TlsServer, open_page: Callable[..., Watched], tmp_path: Path
) -> None:
    watched = phone(open_page, live_app, base_url=tls_server.base_url)
    page = watched.page
    assert page.url.startswith(f"https://{HOST}:")
    assert page.evaluate("window.isSecureContext") is True
    assert page.locator("body").get_attribute("data-secure") == "true"
    assert not page.locator("#wg-insecure").is_visible()
    offline_queue_flow(watched, live_app, tmp_path)
    snapshot(watched, "field_https_after_offline_queue")


def test_https_installs_the_service_worker_and_the_app_works_offline(
    live_app: LiveApp, tls_server: TlsServer, open_page: Callable[..., Watched]
) -> None:
    """Service workers need a secure context with a certificate the phone trusts: here the one
    `wangge tls self-signed` issued, trusted through its CA as on a phone that installed ca.crt."""
    watched = phone(open_page, live_app, base_url=tls_server.base_url)
    page = watched.page
    assert page.url.startswith(f"https://{HOST}:")
    offline_after_the_first_load(watched, live_app, "field_https_offline")
    registration = page.evaluate("navigator.serviceWorker.getRegistration('/field').then((r) => r.scope)")
    assert registration == f"{tls_server.base_url}/field"


def test_the_planner_replays_a_plan_on_a_phone_over_https(
    live_app: LiveApp, tls_server: TlsServer, open_page: Callable[..., Watched]
) -> None:
    """A planner away from the desk: the planner page over HTTPS on a phone-sized screen draws
    both plans, replays the draft and shows its figures without the page running off the side."""
    watched = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(watched, tls_server.base_url, "/planner", "planner")
    page = watched.page
    assert page.url.startswith(f"https://{HOST}:") and page.evaluate("window.isSecureContext") is True
    page.wait_for_selector(f"body[data-compared='{live_app.active_plan}-{live_app.draft_plan}']")
    page.fill("#wg-since", "2026-03-01")
    page.fill("#wg-until", "2026-04-01")
    page.click("#wg-replay")
    page.wait_for_selector(f"body[data-replayed='{live_app.draft_plan}']", timeout=60000)
    assert page.locator("#wg-replay-summary tr", has_text="案件数").first.is_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is wider than the phone: {width}"
    snapshot(watched, "planner_phone_https")

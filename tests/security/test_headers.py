"""Defence in depth on every response: CSP and friends, no-store on personal data and household
tiles, and links that never copy the client's Host header."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gis_api.app import create_app
from gis_api.config import Settings
from gis_api.middleware import content_security_policy
from tests.security.api_world import Api

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/field",
        "/planner",
        "/screen",
        "/report",
        "/survey",
        "/field-sw.js",
        "/field.webmanifest",
        "/health",
        "/static/js/main.js",
        "/no-such-page",
    ],
)
def test_security_headers_on_pages_and_api(api: Api, path: str) -> None:
    response = api.client.get(path)
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "style-src 'self';" in policy  # no inline style attribute or block (test_pages_csp_ready)
    assert "geolocation=(self)" in response.headers["permissions-policy"]
    assert "img-src 'self' data: blob:" in policy  # photos picked on the phone are previewed from blobs


def test_refusals_carry_the_headers_too(api: Api) -> None:
    too_big = api.client.post("/cases", content=b"x" * (2 * 1024 * 1024), headers=api.headers("admin"))
    assert too_big.status_code == 413 and too_big.headers["x-frame-options"] == "DENY"


def test_basemap_hosts_are_allowed_for_images_only(database_url: str) -> None:
    """The configured basemap's tile origins (gis_api.basemaps, their one owner) reach img-src of
    every page, each host spelled out; nothing else is loosened."""
    key = "0123456789abcdef0123456789abcdef"
    settings = Settings(database_url=database_url, basemap="tianditu-vec", tianditu_key=key)
    with TestClient(create_app(settings)) as client:
        policy = client.get("/").headers["content-security-policy"]
    hosts = " ".join(f"https://t{n}.tianditu.gov.cn" for n in range(8))
    assert f"img-src 'self' data: blob: {hosts};" in policy
    for strict in ("default-src 'self';", "script-src 'self';", "connect-src 'self';"):
        assert strict in policy
    assert policy.count("tianditu") == 8
    assert "tianditu" not in content_security_policy([])


@pytest.mark.parametrize(
    "path", ["/cases", "/members", "/assessment/streets/ranking?month=2026-03", "/auth/me"]
)
def test_personal_data_is_never_stored(api: Api, path: str) -> None:
    response = api.as_("west_op").get(path)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"


def test_household_tiles_are_no_store_and_boundaries_revalidate(api: Api) -> None:
    households = api.get("/tiles/households/16/53451/27230.mvt")
    grids = api.get("/tiles/grids/14/13362/6807.mvt")
    assert households.headers["cache-control"] == "no-store"
    assert grids.headers["cache-control"] == "public, no-cache"


def test_next_links_never_copy_the_host_header(api: Api, app: FastAPI) -> None:
    spoofed = {"Host": "evil.example.com"}
    page = api.get("/households?limit=1", headers=spoofed).json()
    assert page["next"].startswith("/households?") and "evil" not in page["next"]
    app.state.settings = app.state.settings.model_copy(
        update={"public_base_url": "https://wangge.example.gov.cn/"}
    )
    page = api.get("/households?limit=1", headers=spoofed).json()
    assert (
        page["next"].startswith("https://wangge.example.gov.cn/households?") and "after_id=" in page["next"]
    )
    discovery = api.client.get("/open311/discovery.json", headers=spoofed).json()
    assert discovery["endpoints"][0]["url"] == "https://wangge.example.gov.cn/open311/v2/"


def test_a_route_with_its_own_policy_keeps_it() -> None:
    """The plan report sets its own sandboxed policy (inline scripts in an opaque origin): the global
    middleware adds the other headers but never replaces it; every other response gets the strict one."""
    from fastapi.responses import HTMLResponse

    from gis_api.middleware import SecurityHeaders
    from gis_api.plans.reports import REPORT_HEADERS

    tiny = FastAPI()
    tiny.add_middleware(SecurityHeaders)

    @tiny.get("/report")
    def report() -> HTMLResponse:
        return HTMLResponse("<script>1</script>", headers=REPORT_HEADERS)

    @tiny.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse("<p>page</p>")

    with TestClient(tiny) as client:
        sandboxed = client.get("/report")
        strict = client.get("/page")
    assert sandboxed.headers["content-security-policy"] == REPORT_HEADERS["Content-Security-Policy"]
    assert sandboxed.headers["content-security-policy"].startswith("sandbox allow-scripts allow-popups;")
    assert sandboxed.headers["x-frame-options"] == "DENY"
    assert sandboxed.headers["cache-control"] == "private, no-store"
    assert strict.headers["content-security-policy"] == content_security_policy()


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost", True),
        ("https://wangge.test", True),
        ("http://wangge.test:8000", False),  # browsers log an error for COOP on such an origin
        ("http://192.0.2.10", False),
    ],
)
def test_opener_policy_only_on_origins_browsers_trust(api: Api, base_url: str, expected: bool) -> None:
    response = api.client.get(f"{base_url}/health")
    assert ("cross-origin-opener-policy" in response.headers) is expected
    assert response.headers["x-frame-options"] == "DENY"

"""Defence in depth on every response: CSP and friends, no-store on personal data and household
tiles, and links that never copy the client's Host header."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI

from gis_api.middleware import content_security_policy
from gis_api.webmap import WEBMAP_DIR
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
    assert "geolocation=(self)" in response.headers["permissions-policy"]
    assert "img-src 'self' data: blob:" in policy  # photos picked on the phone are previewed from blobs


INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\son[a-z]+\s*=|javascript:", re.IGNORECASE)
DYNAMIC_CODE = re.compile(r"\beval\s*\(|\bnew\s+Function\s*\(|setTimeout\(\s*['\"`]")


@pytest.mark.parametrize("page", sorted(p.name for p in WEBMAP_DIR.glob("*.html")))
def test_pages_carry_no_inline_code(page: str) -> None:
    """The strict CSP (script-src 'self') holds only if the pages never need inline scripts, inline
    <style> elements or event handler attributes (the field app's and residents' pages included)."""
    found = INLINE_CODE.findall((WEBMAP_DIR / page).read_text(encoding="utf-8"))
    assert not found, f"{page}: {found}"


def test_page_modules_never_evaluate_strings() -> None:
    modules = [*(WEBMAP_DIR / "js").glob("*.js"), WEBMAP_DIR / "field-sw.js"]
    assert len(modules) > 20
    offending = [m.name for m in modules if DYNAMIC_CODE.search(m.read_text(encoding="utf-8"))]
    assert not offending, offending


def test_refusals_carry_the_headers_too(api: Api) -> None:
    too_big = api.client.post("/cases", content=b"x" * (2 * 1024 * 1024), headers=api.headers("admin"))
    assert too_big.status_code == 413 and too_big.headers["x-frame-options"] == "DENY"


def test_basemap_host_is_allowed_for_images_only() -> None:
    policy = content_security_policy("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&z={z}")
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn" in policy
    assert "script-src 'self';" in policy and "connect-src 'self'" in policy
    assert "tianditu" not in content_security_policy("")


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
    from fastapi.testclient import TestClient

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
    assert strict.headers["content-security-policy"] == content_security_policy("")

"""Defence in depth on every response: CSP and friends, no-store on personal data and household
tiles, and links that never copy the client's Host header."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from gis_api.middleware import content_security_policy
from tests.security.api_world import Api

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "path", ["/", "/field", "/planner", "/health", "/static/js/main.js", "/no-such-page"]
)
def test_security_headers_on_pages_and_api(api: Api, path: str) -> None:
    response = api.client.get(path)
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "geolocation=(self)" in response.headers["permissions-policy"]


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

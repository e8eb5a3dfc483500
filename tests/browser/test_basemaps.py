"""Basemaps for China in a real browser, with no network: tile requests to Tianditu and Amap are
answered locally (Playwright routes), the preset's config is the server's own (resolve_basemap).

The overlays must sit on the basemap: a WGS-84 point of our data is drawn within a pixel of where
the tile shows it (Tianditu: the same point; Amap: its GCJ-02 position), never ~500 m off. The
pages' datum port (webmap/js/datums.js) agrees with gis_api/loaders/chinese_datums.py.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Page, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from gis_api.basemaps import resolve_basemap
from gis_api.config import Settings
from gis_api.loaders.chinese_datums import gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from gis_api.middleware import content_security_policy
from tests.browser.conftest import LiveApp, Watched, log_in, snapshot
from tests.cases import fixtures as world_fixtures

pytestmark = pytest.mark.browser
KEY = "0123456789abcdef0123456789abcdef"
ZOOM = 17
NOT_LOOPBACK = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")
TILE = base64.b64decode(  # a 1×1 grey PNG, stretched to 256×256 by the browser
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mN4+B8AAwMB/6Xq3tAAAAAASUVORK5CYII="
)
SAMPLES = [  # (lon, lat): Wuhan, Beijing, Urumqi, Harbin, Sanya, Lhasa, Shanghai, outside China
    (114.3055, 30.5928), (116.3975, 39.9087), (87.6168, 43.8256), (126.6425, 45.7567),
    (109.5120, 18.2528), (91.1322, 29.6600), (121.4737, 31.2304), (139.6917, 35.6895),
]  # fmt: skip


def mercator_pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web-mercator pixel of a point at a zoom (256-pixel tiles), as every XYZ tile server uses."""
    scale = 256 * 2**zoom
    sin = math.sin(math.radians(lat))
    return (lon + 180) / 360 * scale, (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = math.radians(lon2 - lon1) * 6371000 * math.cos(math.radians(lat1))
    return math.hypot(dx, math.radians(lat2 - lat1) * 6371000)


def serve_offline(page: Page, live_app: LiveApp, preset: str) -> list[str]:
    """The pages as a server with WANGGE_BASEMAP=`preset` serves them: its /config.json and, on our
    documents, its Content-Security-Policy (both from the server's own functions, so the CSP's
    img-src must let the preset's tiles in); every non-loopback request answered with a tile."""
    basemap = resolve_basemap(Settings(basemap=preset, tianditu_key=KEY))
    config = httpx.get(f"{live_app.base_url}/config.json").json()
    config["basemap"] = basemap.public()
    policy = content_security_policy(basemap.tile_origins())
    outside: list[str] = []

    def tile(route: Route) -> None:
        outside.append(route.request.url)
        route.fulfill(status=200, body=TILE, content_type="image/png")

    def document(route: Route) -> None:
        served = route.fetch()
        assert "img-src 'self' data: blob:;" in served.headers["content-security-policy"]  # no basemap
        route.fulfill(response=served, headers={**served.headers, "content-security-policy": policy})

    page.route("**/config.json", lambda route: route.fulfill(json=config))
    page.route(re.compile(rf"^{re.escape(live_app.base_url)}/(report)?(\?.*)?$"), document)
    # patterns are matched in the browser driver: our own requests never wait on this process
    page.route(NOT_LOOPBACK, tile)
    return outside


def open_at_incident(watched: Watched, live_app: LiveApp, preset: str) -> list[str]:
    outside = serve_offline(watched.page, live_app, preset)
    try:
        log_in(watched, live_app.base_url, "/", "admin")
    except PlaywrightTimeout:  # every basemap tile passes through this process: slow on a busy machine
        watched.page.wait_for_selector("body[data-ready='true']", timeout=45000)
    lon, lat = world_fixtures.INCIDENT
    watched.page.evaluate(f"window.wanggeMap.setView([{lat}, {lon}], {ZOOM}, {{ animate: false }})")
    # a zoom animation of the page's own first view would move the map back once it ends (Leaflet
    # finishes it after a later setView): the view must still be ours a moment later
    watched.page.wait_for_timeout(400)
    view = watched.page.evaluate("() => [window.wanggeMap.getZoom(), window.wanggeMap.getCenter()]")
    assert view[0] == ZOOM and metres(lon, lat, view[1]["lng"], view[1]["lat"]) < 1, f"the map moved: {view}"
    watched.page.wait_for_function(
        "() => [...document.querySelectorAll('.wg-basemap img.leaflet-tile')].some((i) => i.complete)"
    )
    return outside


def drawn_at(page: Page, lon: float, lat: float) -> tuple[float, float]:
    """Where the page draws a WGS-84 overlay point (viewport pixels)."""
    x, y = page.evaluate(
        """([lat, lon]) => { const map = window.wanggeMap;
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y]; }""",
        [lat, lon],
    )
    return float(x), float(y)


def tile_shows_at(
    page: Page, tile_match: Callable[[int, int], str], lon: float, lat: float
) -> tuple[float, float]:
    """Where the basemap tile shows (lon, lat) given in the tile's own datum (viewport pixels)."""
    px, py = mercator_pixel(lon, lat, ZOOM)
    x, y = int(px // 256), int(py // 256)
    find = """(part) => [...document.querySelectorAll('.wg-basemap:not(.wg-basemap-labels) img')]
            .find((i) => i.src.includes(part))"""
    # the tile under the point may arrive after the first tiles of the view: wait for that one
    page.wait_for_function(f"(part) => ({find})(part)?.complete === true", arg=tile_match(x, y))
    rect: dict[str, Any] = page.evaluate(
        f"""(part) => {{ const r = ({find})(part).getBoundingClientRect();
            return {{ left: r.left, top: r.top, width: r.width }}; }}""",
        tile_match(x, y),
    )
    assert rect["width"] == 256
    return rect["left"] + px - x * 256, rect["top"] + py - y * 256


def test_tianditu_tiles_take_our_wgs84_overlays_as_they_are(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    outside = open_at_incident(watched, live_app, "tianditu-vec")
    hosts = {url.split("/")[2] for url in outside}
    assert hosts and hosts <= {f"t{n}.tianditu.gov.cn" for n in range(8)}
    assert any("/vec_w/wmts?" in url and "LAYER=vec" in url for url in outside)
    assert any("/cva_w/wmts?" in url and "LAYER=cva" in url for url in outside)
    assert all(url.endswith(f"tk={KEY}") for url in outside)
    assert any(f"TILEMATRIX={ZOOM}&" in url for url in outside)
    lon, lat = world_fixtures.INCIDENT
    shown = tile_shows_at(watched.page, lambda x, y: f"TILEROW={y}&TILECOL={x}&", lon, lat)
    drawn = drawn_at(watched.page, lon, lat)
    assert math.dist(shown, drawn) < 1.5


def test_amap_tiles_are_moved_onto_our_overlays(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    outside = open_at_incident(watched, live_app, "amap-vec")
    assert {url.split("/")[2] for url in outside} <= {f"webrd0{n}.is.autonavi.com" for n in range(1, 5)}
    lon, lat = world_fixtures.INCIDENT
    glon, glat = (float(v[0]) for v in wgs84_to_gcj02([lon], [lat]))
    assert metres(lon, lat, glon, glat) > 300  # the offset this test is about
    shown = tile_shows_at(watched.page, lambda x, y: f"x={x}&y={y}&z={ZOOM}", glon, glat)
    drawn = drawn_at(watched.page, lon, lat)
    metres_per_pixel = 156543.03 * math.cos(math.radians(lat)) / 2**ZOOM
    assert math.dist(shown, drawn) * metres_per_pixel < 2.0  # ~500 m without the shift
    page = watched.page
    page.mouse.move(*drawn)
    page.wait_for_selector("#wg-readout:has-text('GCJ-02')")
    readout = page.inner_text("#wg-readout")
    assert readout.startswith("WGS84 ") and " · GCJ-02 " in readout
    shown_gcj = [float(v) for v in readout.split("GCJ-02 ")[1].split(", ")]
    assert metres(*shown_gcj, glon, glat) < 2.0
    under = (
        float(page.get_attribute("#wg-readout", "data-lon") or 0),
        float(page.get_attribute("#wg-readout", "data-lat") or 0),
    )
    assert metres(*under, lon, lat) < 2.0
    snapshot(watched, "command_amap_aligned")


def test_javascript_datums_match_the_server(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    """webmap/js/datums.js is the pages' one port (the command centre's Amap tiles and readout, the
    field app's navigation links): forward GCJ-02 and BD-09 equal the server's to 1e-9°, the inverse
    GCJ-02 lands within 0.5 m of the server's."""
    watched = open_page()
    watched.page.goto(f"{live_app.base_url}/")  # any of our pages: the module is imported from it
    found = watched.page.evaluate(
        """async (points) => { const m = await import('/static/js/datums.js');
            return points.map(([lon, lat]) =>
              [m.wgs84ToGcj02(lon, lat), m.gcj02ToWgs84(lon, lat), m.wgs84ToBd09(lon, lat)]); }""",
        SAMPLES,
    )
    lons, lats = np.array([p[0] for p in SAMPLES]), np.array([p[1] for p in SAMPLES])
    forward, inverse = wgs84_to_gcj02(lons, lats), gcj02_to_wgs84(lons, lats)
    baidu = wgs84_to_bd09(lons, lats)
    for i, ((fx, fy), (ix, iy), (bx, by)) in enumerate(found):
        assert (fx, fy) == pytest.approx((forward[0][i], forward[1][i]), abs=1e-9), SAMPLES[i]
        assert (bx, by) == pytest.approx((baidu[0][i], baidu[1][i]), abs=1e-9), SAMPLES[i]
        assert metres(ix, iy, inverse[0][i], inverse[1][i]) < 0.5, SAMPLES[i]
    assert found[-1][:2] == [list(SAMPLES[-1])] * 2  # outside China: unchanged, as on the server
    assert json.dumps(found[0][:2]) != json.dumps([list(SAMPLES[0])] * 2)  # and inside it does move


def test_residents_page_takes_the_same_basemap(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    """The public page (no login) draws the configured preset through the same module: Amap tiles in
    the GCJ-02 layer that moves them, never a plain tile layer ~500 m off."""
    watched = open_page()
    outside = serve_offline(watched.page, live_app, "amap-img")
    watched.page.goto(f"{live_app.base_url}/report")
    watched.page.wait_for_selector("body[data-ready='true']")
    watched.page.wait_for_selector("#map[data-basemap-datum='gcj02'] .wg-basemap-labels img.leaflet-tile")
    assert outside and {url.split("/")[2] for url in outside} <= {
        f"webst0{n}.is.autonavi.com" for n in range(1, 5)
    }

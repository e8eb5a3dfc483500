"""Field app at phone size: installable, works offline (service worker, cached assignments, the grid's
tiles), navigation links in Amap/Baidu datums, visits picked from nearby households or a door code,
a refused location permission explained on screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from gis_api.households.doorcode import door_code
from gis_api.loaders.chinese_datums import from_wgs84
from tests.browser.conftest import PHONE, LiveApp, Watched, log_in, snapshot
from tests.browser.test_field import actions_of, dispatched_case, phone

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def doors(live_app: LiveApp) -> dict[int, str]:
    """Door labels on the south-west grid's households, and two more households near the worker."""
    with live_app.engine.begin() as connection:
        connection.execute(text("UPDATE household SET door_label = '3-' || (100 + id)::text"))
        for household_id, dlon in ((21, 0.0002), (22, 0.0005)):
            connection.execute(
                text(
                    "INSERT INTO household (id, residents, grid_id, door_label, geom, district_code) "
                    "SELECT :i, 2, grid_id, :d, ST_SetSRID(ST_MakePoint(114.304 + :dx, 30.547), 4326), "
                    "district_code FROM household WHERE id = 2"
                ),
                {"i": household_id, "d": f"1-{household_id}01", "dx": dlon},
            )
        rows = connection.execute(text("SELECT id, door_label FROM household WHERE id IN (2, 21, 22)")).all()
    return {int(r.id): str(r.door_label) for r in rows}


def offline_after_the_first_load(watched: Watched, live_app: LiveApp, name: str) -> None:
    """The first load online installs the service worker and caches the worker's grid tiles; offline,
    a reload starts the app from the worker's cache with the phone's copy of the assignments (taken
    at a time shown in Beijing time, whatever the phone's zone) and draws the cached tiles."""
    page = watched.page
    case_id = dispatched_case(live_app, "离线可见的任务")
    page.locator(f".wg-card[data-case-id='{case_id}']").wait_for(timeout=5000)
    page.wait_for_selector("body[data-offline-ready='true']", timeout=20000)
    assert int(page.get_attribute("body", "data-cached-tiles") or 0) >= 3  # the grid at every layer and zoom
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='true']", timeout=15000)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.locator("#wg-net").get_attribute("data-online") == "false"
    page.locator(f".wg-card[data-case-id='{case_id}']").wait_for()  # from the phone's copy
    banner = page.locator("#wg-cached")
    cached_at = banner.get_attribute("data-cached-at") or ""
    assert banner.is_visible() and cached_at
    assert "缓存的任务列表" in banner.inner_text()
    beijing = datetime.fromisoformat(cached_at.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") != "Asia/Shanghai"
    assert f"{beijing:%H:%M}" in banner.inner_text()
    page.click(".wg-tabs button[data-tab='map']")
    page.wait_for_function(
        "() => Number(document.body.dataset.gridFeatures ?? 0) > 0", timeout=10000
    )  # cached tiles
    snapshot(watched, name)
    page.context.set_offline(False)


def test_installable_and_offline_after_the_first_load(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    watched = phone(open_page, live_app)
    page = watched.page
    manifest = httpx.get(f"{live_app.base_url}/field.webmanifest").json()
    assert manifest["start_url"] == "/field" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert sizes == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert httpx.get(live_app.base_url + icon["src"]).headers["content-type"] == "image/png"
    assert page.evaluate("document.querySelector('link[rel=manifest]').href").endswith("/field.webmanifest")
    offline_after_the_first_load(watched, live_app, "field_offline")


def test_reopened_offline_without_the_tab_session_then_renewed_online(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    """Offline, a tab without its session (a new tab, or one the phone dropped) opens as the device's
    account from the phone's copies, without a login it could not send; the work done offline is
    queued, and back online the refresh token renews the session and the queue is delivered."""
    watched = phone(open_page, live_app)
    page = watched.page
    case_id = dispatched_case(live_app, "离线重开的任务")
    page.locator(f".wg-card[data-case-id='{case_id}']").wait_for(timeout=5000)
    page.wait_for_selector("body[data-offline-ready='true']", timeout=20000)
    refresh = page.evaluate("localStorage.getItem('wangge.refresh')")
    page.context.set_offline(True)
    page.evaluate("sessionStorage.clear()")  # what a new tab starts with
    page.reload()
    page.wait_for_selector("body[data-ready='true']", timeout=15000)
    assert page.locator("#wg-login").count() == 0
    assert page.locator("#wg-who").inner_text().startswith("worker")
    assert page.evaluate("sessionStorage.getItem('wangge.token')") is None  # nothing could be renewed
    card = page.locator(f".wg-card[data-case-id='{case_id}']")
    card.locator("button[data-action='start']").click()
    page.wait_for_selector("#wg-queue[data-count='1']")
    page.context.set_offline(False)
    page.wait_for_selector("body[data-delivered='1']", timeout=20000)
    assert page.evaluate("sessionStorage.getItem('wangge.token')")  # renewed by the refresh token
    assert page.evaluate("localStorage.getItem('wangge.refresh')") not in (None, refresh)  # rotated
    assert actions_of(live_app, case_id).count("start") == 1


def test_navigation_links_carry_gcj02_and_bd09(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = phone(open_page, live_app)
    page = watched.page
    case_id = dispatched_case(live_app, "导航测试")
    card = page.locator(f".wg-card[data-case-id='{case_id}']")
    card.wait_for(timeout=5000)
    case = live_app.get("admin", f"/cases/{case_id}")
    amap = parse_qs(urlparse(card.locator("a[data-nav='amap']").get_attribute("href") or "").query)
    gcj_lon, gcj_lat = (float(v) for v in amap["to"][0].split(",")[:2])
    expected = from_wgs84("gcj02", [case["lon"]], [case["lat"]])
    assert (gcj_lon, gcj_lat) == pytest.approx((expected[0][0], expected[1][0]), abs=2e-6)
    assert amap["coordinate"] == ["gaode"]
    baidu = parse_qs(urlparse(card.locator("a[data-nav='baidu']").get_attribute("href") or "").query)
    bd_lat, bd_lon = (
        float(v) for v in baidu["destination"][0].split("|")[0].removeprefix("latlng:").split(",")
    )
    expected = from_wgs84("bd09", [case["lon"]], [case["lat"]])
    assert (bd_lon, bd_lat) == pytest.approx((expected[0][0], expected[1][0]), abs=2e-6)
    assert baidu["coord_type"] == ["bd09ll"]


def test_visit_from_nearby_households_or_a_door_code(
    live_app: LiveApp, open_page: Callable[..., Watched], doors: dict[int, str]
) -> None:
    watched = phone(open_page, live_app)
    page = watched.page
    page.click(".wg-tabs button[data-tab='visit']")
    assert page.locator("#wg-visit-submit").is_disabled()  # no household yet, and no id box to type in
    page.wait_for_function("() => document.getElementById('wg-report-position').textContent !== ''")  # a fix
    page.click("#wg-nearby-refresh")
    page.wait_for_selector("#wg-nearby[data-count='2']")
    assert doors[21] in page.locator("#wg-nearby").inner_text()
    page.locator("#wg-nearby input[value='21']").check()
    assert page.locator("#wg-visit-chosen").get_attribute("data-household") == "21"
    page.fill("#wg-visit-note", "入户走访")
    page.click("#wg-visit-submit")
    snapshot(watched, "field_visit")
    page.wait_for_selector("body[data-delivered='1']")
    code = door_code(2)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    page.fill("#wg-door-code", wrong)
    page.click("#wg-code-form button[type=submit]")
    assert page.locator("#wg-visit-chosen").get_attribute("data-household") is None
    page.fill("#wg-door-code", f"WGH1:{code}")
    page.click("#wg-code-form button[type=submit]")
    assert page.locator("#wg-visit-chosen").get_attribute("data-household") == "2"
    page.click("#wg-visit-submit")
    page.wait_for_selector("body[data-delivered='2']")
    with live_app.engine.connect() as connection:
        visited = connection.execute(
            text("SELECT household_id, note FROM visit WHERE member_id = :m ORDER BY id"),
            {"m": live_app.members["worker"]},
        ).all()
    assert [tuple(v) for v in visited][-2:] == [(21, "入户走访"), (2, "")]
    assert page.locator(
        "#wg-scan"
    ).is_hidden()  # no BarcodeDetector in desktop Chromium: the code box is the way


def test_refused_location_is_explained(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page(viewport=PHONE, is_mobile=True, has_touch=True)  # no geolocation permission
    log_in(watched, live_app.base_url, "/field", "worker")
    page = watched.page
    page.wait_for_selector("#wg-geo-denied:not([hidden])", timeout=10000)
    assert page.locator("#wg-geo-denied").get_attribute("data-reason") == "field.geo_denied"
    assert "定位权限被拒绝" in page.locator("#wg-geo-denied").inner_text()
    snapshot(watched, "field_location_refused")

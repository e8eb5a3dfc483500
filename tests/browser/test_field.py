"""Field app at phone size: an assignment arrives live, accept → arrive → dispose with a note and a
photo; actions made offline are queued and delivered exactly once after reconnecting."""

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.browser.conftest import PHONE, LiveApp, Watched, log_in, photo_file, snapshot
from tests.cases import fixtures as world_fixtures

pytestmark = pytest.mark.browser
LON, LAT = world_fixtures.INCIDENT


def dispatched_case(live_app: LiveApp, description: str) -> int:
    """An operator reports, accepts, registers and dispatches a case; it goes to the free worker."""
    with live_app.engine.begin() as connection:  # the worker is free again (previous tests used them)
        connection.execute(
            text("UPDATE team_member SET status = 'available' WHERE id = :w"),
            {"w": live_app.members["worker"]},
        )
    case = live_app.post(
        "admin", "/cases", {"category_code": "E0201", "lon": LON, "lat": LAT, "description": description}
    ).json()
    for action in ("accept", "register"):
        live_app.post("admin", f"/cases/{case['id']}/actions/{action}")
    decided = live_app.post("admin", f"/cases/{case['id']}/dispatch").json()
    assert decided["member_id"] == live_app.members["worker"]
    return int(case["id"])


def phone(open_page: Callable[..., Watched], live_app: LiveApp, base_url: str | None = None) -> Watched:
    """The field app on a phone-sized page with a position, logged in as the grid worker."""
    watched = open_page(
        viewport=PHONE,
        geolocation={"longitude": LON + 0.002, "latitude": LAT - 0.001},
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
    )
    log_in(watched, base_url or live_app.base_url, "/field", "worker")
    return watched


def actions_of(live_app: LiveApp, case_id: int) -> list[str]:
    return [event["action"] for event in live_app.get("admin", f"/cases/{case_id}")["events"]]


def test_assignment_arrives_and_is_disposed_with_photo(
    live_app: LiveApp, open_page: Callable[..., Watched], tmp_path: Path
) -> None:
    watched = phone(open_page, live_app)
    page = watched.page
    case_id = dispatched_case(live_app, "路灯杆小广告")
    card = page.locator(f".wg-card[data-case-id='{case_id}']")
    card.wait_for(timeout=5000)  # arrives over the live stream, no reload
    assert "路灯杆小广告" in card.inner_text()
    card.locator("button[data-action='show']").click()
    page.wait_for_selector("#wg-route[data-kind='road']")  # drawn along the roads, not a straight line
    assert "公里" in page.locator("#wg-route").inner_text()
    assert page.locator("path.wg-route-road").count() == 1
    page.wait_for_timeout(300)
    snapshot(watched, "field_route_map")
    page.click(".wg-tabs button[data-tab='list']")
    card.locator("button[data-action='start']").click()
    page.wait_for_selector(f".wg-card[data-case-id='{case_id}'][data-state='in_progress']")
    page.wait_for_selector("body[data-delivered='1']")
    card.locator("button[data-action='arrive']").click()
    card.locator(".wg-note").fill("已清理，拍照留档")
    card.locator(".wg-photo").set_input_files(str(photo_file(tmp_path)))
    card.locator("button[data-action='dispose']").click()
    page.wait_for_selector("body[data-delivered='3']")  # start, the photo, then the disposal
    stored = live_app.get("admin", f"/cases/{case_id}")
    assert stored["state"] == "disposed"
    disposal = stored["events"][-1]
    assert (disposal["action"], disposal["note"]) == ("dispose", "已清理，拍照留档")
    photo = photo_file(tmp_path).read_bytes()
    ref = f"media:sha256:{hashlib.sha256(photo).hexdigest()}"
    assert disposal["media"] == [ref]
    assert httpx.get(f"{live_app.base_url}/media/{ref}", headers=live_app.headers("admin")).content == photo
    assert disposal["lon"] == pytest.approx(LON + 0.002, abs=1e-6)
    with live_app.engine.connect() as connection:
        pings = connection.execute(
            text("SELECT count(*) FROM position_ping WHERE member_id = :w"), {"w": live_app.members["worker"]}
        ).scalar_one()
    assert pings >= 1


def test_offline_actions_are_delivered_once_after_reconnect(
    live_app: LiveApp, open_page: Callable[..., Watched], tmp_path: Path
) -> None:
    offline_queue_flow(phone(open_page, live_app), live_app, tmp_path)


def offline_queue_flow(watched: Watched, live_app: LiveApp, tmp_path: Path) -> None:
    """Offline: start a case and file a patrol report with a photo; back online, each is delivered
    exactly once and the queue survives a reload empty."""
    page = watched.page
    case_id = dispatched_case(live_app, "离线测试")
    card = page.locator(f".wg-card[data-case-id='{case_id}']")
    card.wait_for(timeout=5000)
    page.context.set_offline(True)
    page.wait_for_selector("#wg-net[data-online='false']")
    card.locator("button[data-action='start']").click()
    page.click(".wg-tabs button[data-tab='report']")
    page.select_option("#wg-report-category", "E0102")
    description = f"巡查发现暴露垃圾（离线上报 {case_id}）"
    page.fill("#wg-report-description", description)
    page.locator("#wg-report-photo").set_input_files(str(photo_file(tmp_path)))
    page.click("#wg-report-form button[type=submit]")
    page.wait_for_selector("#wg-queue[data-count='3']")  # start, the photo, the report
    page.wait_for_timeout(300)
    assert actions_of(live_app, case_id)[-1] == "dispatch"  # nothing reached the server while offline
    page.context.set_offline(False)
    page.wait_for_selector("#wg-queue[data-count='0']", state="attached", timeout=10000)
    assert actions_of(live_app, case_id).count("start") == 1
    reports = live_app.get("admin", "/cases?limit=500")["items"]
    offline = [c for c in reports if c["description"] == description]
    assert len(offline) == 1
    report_event = live_app.get("admin", f"/cases/{offline[0]['id']}")["events"][0]
    (ref,) = report_event["media"]
    photo = httpx.get(f"{live_app.base_url}/media/{ref}", headers=live_app.headers("admin"))
    assert photo.status_code == 200 and photo.content == photo_file(tmp_path).read_bytes()
    # a reload finds nothing left to send: the queue survived offline and emptied exactly once
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("#wg-queue").get_attribute("data-count") == "0"
    assert actions_of(live_app, case_id).count("start") == 1


def test_a_dropped_tab_comes_back_logged_in_and_csp_holds(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    """The phone drops the tab (sessionStorage gone): the refresh token in localStorage renews the
    session without the login dialog, and an access token about to expire is renewed before use."""
    watched = phone(open_page, live_app)
    page = watched.page
    first_refresh = page.evaluate("localStorage.getItem('wangge.refresh')")
    assert first_refresh
    policy = httpx.get(f"{live_app.base_url}/field").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    page.evaluate("sessionStorage.clear()")  # what a dropped tab loses
    page.reload()
    page.wait_for_selector("body[data-ready='true']", timeout=15000)
    # the offline copy of the grid's tiles is taken after start-up: let it finish before the token
    # runs out below, as a phone would have long before
    page.wait_for_selector("body[data-cached-tiles]", state="attached", timeout=30000)
    assert page.locator("#wg-login").count() == 0
    assert page.evaluate("localStorage.getItem('wangge.refresh')") not in (None, first_refresh)  # rotated
    before = page.evaluate("sessionStorage.getItem('wangge.token')")
    page.evaluate("sessionStorage.setItem('wangge.expires', '0')")  # the access token ran out
    me = page.evaluate(
        "import('/static/js/api.js').then((api) => api.getJson('/members/me')).then((m) => m.id)"
    )
    assert me == live_app.members["worker"]
    assert page.evaluate("sessionStorage.getItem('wangge.token')") != before  # renewed before the call

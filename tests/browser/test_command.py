"""Command centre in a real browser: layers from vector tiles, a case arriving live, dispatch."""

import time
from collections.abc import Callable

import pytest

from tests.browser.conftest import LiveApp, Watched, log_in
from tests.cases import fixtures as world_fixtures

pytestmark = pytest.mark.browser
LIVE_WITHIN_S = 1.0


def wait_for_tiles_settled(watched: Watched, quiet_s: float = 0.4) -> None:
    """Until no tile has arrived for `quiet_s` and no layer is loading (the first view is complete):
    tile bursts occupy the browser's six connections to the server and would delay other requests."""
    seen = -1
    while seen != len(watched.tiles):
        seen = len(watched.tiles)
        watched.page.wait_for_timeout(quiet_s * 1000)
    watched.page.wait_for_selector("body[data-tiles-loading='0']")


def test_login_renders_tile_layers(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.wait_for_function("() => document.querySelectorAll('canvas.wg-vtile').length >= 4")
    wait_for_tiles_settled(watched)  # the view fitted to the district, with household tiles (z >= 14)
    layers = {url.split("/tiles/")[1].split("/")[0] for _, url in watched.tiles}
    assert {"roads", "streets", "communities", "grids", "households"} <= layers
    assert {status for status, _ in watched.tiles} == {200}
    # the tiny district's polygons were drawn: some canvas pixels are not transparent
    painted = page.evaluate(
        """() => [...document.querySelectorAll('canvas.wg-vtile')].some((c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
            return false; })"""
    )
    assert painted
    assert page.locator("#wg-scope option").count() >= 3  # district, two streets (and communities)


def test_team_layer_starts_from_the_member_list(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    """Before any position event, the street operator sees their street's five members, by availability."""
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "west_op")
    page = watched.page
    page.wait_for_selector("body[data-members='5']")
    assert page.locator("path.wg-member").count() == 5
    assert page.locator("path.wg-member-available").count() == 1  # only the field app's worker is free
    assert page.locator("path.wg-member-off_duty").count() == 4


def test_english_switch(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "west_op")
    page = watched.page
    assert page.locator(".wg-bar h1").inner_text() == "积玉桥街道网格化指挥中心"  # the scope's name
    page.click("#wg-lang")
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator(".wg-bar h1").inner_text() == "积玉桥街道 Grid Command Centre"
    assert page.locator("#wg-demo-notice").inner_text() == "Demo data"
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("#wg-lang")  # back to Chinese for the other tests sharing nothing but the browser
    page.wait_for_selector("body[data-ready='true']")


def test_city_view_spans_the_districts_and_says_demo_data(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    """A city operator sees both districts in the scope selector, the city's name in the title, and
    the demo-data notice because one district's households are synthetic."""
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "city")
    page = watched.page
    assert page.locator(".wg-bar h1").inner_text() == "武汉市网格化指挥中心"
    options = page.locator("#wg-scope option").all_inner_texts()
    assert [o.strip() for o in options[:1]] == ["武汉市"] and {"武昌区", "洪山区"} <= {
        o.strip() for o in options
    }
    notice = page.locator("#wg-demo-notice")
    assert (
        notice.is_visible()
        and notice.inner_text() == "演示数据"
        and "武昌区" in (notice.get_attribute("title") or "")
    )
    # the city's 12345 desk may take calls and read callers; its operators follow tracks in every district
    page.wait_for_selector("#wg-desk-open:not([hidden])")
    page.wait_for_selector("#wg-track-member option[value]:not([value=''])", state="attached")
    page.select_option("#wg-scope", "420111")
    page.wait_for_function("() => document.querySelector('#wg-scope').value === '420111'")


def test_incident_appears_live_and_dispatch_changes_its_state(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.wait_for_selector("#wg-live[data-status='on']")
    page.wait_for_selector("#wg-kpi table", state="attached")
    wait_for_tiles_settled(watched)
    lon, lat = world_fixtures.INCIDENT
    case = live_app.post(
        "admin", "/cases", {"category_code": "E0201", "lon": lon, "lat": lat, "description": "电线杆小广告"}
    ).json()
    acknowledged = time.monotonic()  # 201: committed, so the event is on its way
    item = page.locator(f"#wg-case-list li[data-case-id='{case['id']}']")
    item.wait_for(timeout=5000)
    assert time.monotonic() - acknowledged < LIVE_WITHIN_S
    assert page.locator(".wg-incident").count() >= 1
    item.click()
    for action, state in (("accept", "accepted"), ("register", "registered"), ("dispatch", "dispatched")):
        page.click(f"#wg-case-detail button[data-action='{action}']")
        page.wait_for_selector(f"#wg-detail-state[data-state='{state}']", timeout=5000)
    assert (
        page.locator(f"#wg-case-list li[data-case-id='{case['id']}']").get_attribute("data-state")
        == "dispatched"
    )
    explanation = page.locator("#wg-case-detail .wg-table tr.chosen").inner_text()
    assert "网格员乙" in explanation
    stored = live_app.get("admin", f"/cases/{case['id']}")
    assert stored["state"] == "dispatched"
    assert stored["assigned_member_id"] == live_app.members["worker"]
    page.select_option("#wg-heat", "7")
    page.wait_for_selector("#wg-heat-count:has-text('1')")
    assert page.locator("canvas.wg-heat").count() == 1


def test_reconnect_resumes_without_losing_events(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.wait_for_selector("#wg-live[data-status='on']")
    lon, lat = world_fixtures.INCIDENT
    first = live_app.post("admin", "/cases", {"category_code": "E0201", "lon": lon, "lat": lat}).json()
    page.locator(f"#wg-case-list li[data-case-id='{first['id']}']").wait_for(timeout=5000)
    resume_from = page.evaluate("window.wanggeLive.lastEventId")
    assert resume_from is not None
    # drop the stream, change the first case and post another while it is down: both arrive after the
    # reconnect, replayed from Last-Event-ID, each once
    page.evaluate("window.wanggeLive.reconnect()")
    live_app.post("admin", f"/cases/{first['id']}/actions/accept")
    second = live_app.post("admin", "/cases", {"category_code": "E0201", "lon": lon, "lat": lat}).json()
    page.locator(f"#wg-case-list li[data-case-id='{second['id']}']").wait_for(timeout=8000)
    page.wait_for_selector(f"#wg-case-list li[data-case-id='{first['id']}'][data-state='accepted']")
    events = page.evaluate("window.wanggeEvents")
    ids = [event["id"] for event in events]
    assert len(ids) == len(set(ids))  # the replay may include older ids, never one twice
    received = {(event["case"], event["action"]) for event in events}
    assert {(first["id"], "report"), (first["id"], "accept"), (second["id"], "report")} <= received

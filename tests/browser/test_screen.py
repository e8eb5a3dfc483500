"""The wall screen at 1920×1080: counters, trends, ranking and the overdue list show real values and
follow a newly posted case live over the event stream."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.browser.conftest import LiveApp, Watched, log_in, snapshot
from tests.cases import fixtures as world_fixtures

pytestmark = pytest.mark.browser
WALL = {"width": 1920, "height": 1080}


def report(live_app: LiveApp, **extra: object) -> int:
    lon, lat = world_fixtures.INCIDENT
    body = {"category_code": "E0201", "lon": lon, "lat": lat, **extra}
    return int(live_app.post("admin", "/cases", body).json()["id"])


def value(watched: Watched, selector: str) -> int:
    return int(watched.page.get_attribute(selector, "data-value") or -1)


def test_wall_screen_shows_real_values_and_updates_live(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    late = report(live_app, description="超期的案件")
    closed = report(live_app)
    for action in ("accept", "register"):
        live_app.post("admin", f"/cases/{late}/actions/{action}")
    live_app.post("admin", f"/cases/{closed}/actions/void")
    with live_app.engine.begin() as connection:  # the late case's stage ran out an hour ago
        connection.execute(
            text("UPDATE incident SET stage_deadline = :t WHERE id = :c"),
            {"t": datetime.now(UTC) - timedelta(hours=1), "c": late},
        )
    watched = open_page(viewport=WALL)
    log_in(watched, live_app.base_url, "/screen", "admin")
    page = watched.page
    assert page.locator(".wg-bar h1").inner_text() == page.title() == "武昌区网格化指挥大屏"  # from the DB
    assert page.locator("#wg-demo-notice").is_visible()  # the district's households are synthetic
    counters = live_app.get("admin", "/cases/counters")
    assert value(watched, "#wg-screen-count-open") == counters["open"] >= 1
    assert value(watched, "#wg-screen-count-overdue") == counters["overdue"] >= 1
    assert page.locator(f"#wg-screen-overdue li[data-case-id='{late}']").count() == 1
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")  # the page's month: Beijing's
    ranking = live_app.get("admin", f"/assessment/streets/ranking?month={month}")
    assert page.locator("#wg-screen-ranking tr[data-street]").count() == len(ranking["rows"]) == 2
    assert page.inner_text("#wg-screen-ranking").count("街道") == 2
    trends = live_app.get("admin", "/analytics/trends?hours=24&days=14")
    reported_24h = sum(h["reported"] for h in trends["hourly"])
    assert int(page.get_attribute("#wg-chart-hourly", "data-total") or -1) == reported_24h >= 2
    assert page.locator("#wg-chart-hourly rect").count() == 48
    assert int(page.get_attribute("#wg-chart-daily", "data-points") or 0) >= 1
    assert value(watched, "#wg-screen-count-members") == 1  # only the field app's worker is on duty
    page.wait_for_selector("body[data-live='on']")
    before = value(watched, "#wg-screen-count-open")
    fresh = report(live_app, description="大屏上的新案件")
    page.wait_for_function(
        "(n) => Number(document.querySelector('#wg-screen-count-open').dataset.value) === n",
        arg=before + 1,
        timeout=8000,
    )
    page.wait_for_function(
        "(n) => Number(document.querySelector('#wg-chart-hourly').dataset.total) === n", arg=reported_24h + 1
    )
    assert page.locator(".wg-incident").count() >= 2
    assert fresh > late
    page.wait_for_timeout(300)
    snapshot(watched, "screen_1920x1080")
    assert page.evaluate("[window.innerWidth, window.innerHeight]") == [1920, 1080]
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080  # one screen, no scrolling


def test_city_wall_ranks_the_streets_of_every_district(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    """A city operator's wall: the city's name, the demo-data notice, city-wide counters and the
    street ranking across districts with each street's district named."""
    watched = open_page(viewport=WALL)
    log_in(watched, live_app.base_url, "/screen", "city")
    page = watched.page
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator(".wg-bar h1").inner_text() == "武汉市网格化指挥大屏"
    notice = page.locator("#wg-demo-notice")
    assert notice.is_visible() and notice.inner_text() == "演示数据"
    assert value(watched, "#wg-screen-count-open") == live_app.get("city", "/cases/counters")["open"]
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    ranking = live_app.get("city", f"/assessment/streets/ranking?month={month}")
    rows = page.locator("#wg-screen-ranking tr[data-street]")
    assert rows.count() == len(ranking["rows"]) == 4
    shown = {
        (row.get_attribute("data-district"), row.locator("td.district").inner_text()) for row in rows.all()
    }
    assert shown == {("420106", "武昌区"), ("420111", "洪山区")}
    page.click("#wg-lang")
    page.wait_for_function(
        "() => document.querySelector('.wg-bar h1').textContent === '武汉市 Grid Command Wall'"
    )
    page.click("#wg-lang")

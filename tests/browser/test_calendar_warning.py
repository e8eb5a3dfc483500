"""The command centre when the working calendar has run out: a banner says so and what to do, and
cases whose deadline was counted past the calendar carry a 'deadline uncertain' badge.

The API here runs with the shipped calendar cut to 2025, as if nobody imported 2026: whatever the
date the tests run on, the calendar has ended."""

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.conftest import LiveApp, Watched, log_in, snapshot
from tests.cases import fixtures as world_fixtures
from tests.cases.test_holidays import DEFAULT_FILE

pytestmark = pytest.mark.browser


def live_app_env(var_dir: Path) -> dict[str, str]:
    calendar = var_dir / "calendar-2025.toml"
    calendar.write_text(DEFAULT_FILE.read_text().split("[years.2026]")[0])
    return {"WANGGE_CALENDAR_FILE": str(calendar)}


def test_banner_and_uncertain_deadlines(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    lon, lat = world_fixtures.INCIDENT
    case = live_app.post("admin", "/cases", {"category_code": "E0201", "lon": lon, "lat": lat}).json()
    assert live_app.get("admin", f"/cases/{case['id']}")["deadline_uncertain"] is True
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    banner = page.locator("#wg-calendar-warning")
    banner.wait_for()
    assert "工作日历已于 2025-12-31 到期" in banner.inner_text()
    assert "wangge calendar import" in banner.inner_text()
    row = page.locator(f"#wg-case-list li[data-case-id='{case['id']}']")
    assert row.locator(".wg-uncertain").inner_text() == "期限待定"
    row.click()
    page.wait_for_selector("#wg-case-detail .wg-uncertain")
    snapshot(watched, "command_calendar_ended")
    page.click("#wg-lang")
    page.wait_for_selector("body[data-ready='true']")
    assert "The working calendar ended on 2025-12-31" in page.locator("#wg-calendar-warning").inner_text()
    assert page.locator(".wg-uncertain").first.inner_text() == "Deadline uncertain"

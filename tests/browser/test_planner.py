"""Planner view in a real browser: compare the active plan with a draft, then activate the draft."""

from collections.abc import Callable

import pytest

from tests.browser.conftest import LiveApp, Watched, log_in

pytestmark = pytest.mark.browser


def test_compare_two_plans_and_activate_one(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/planner", "planner")
    page = watched.page
    page.wait_for_selector(f"body[data-compared='{live_app.active_plan}-{live_app.draft_plan}']")
    # the draft splits each community west/east: the two south households change grid
    assert "50.0%" in page.locator("#wg-same-grid").inner_text()
    assert page.locator("#wg-metrics-table tbody tr").count() >= 10
    assert page.locator("path.wg-moved").count() == 2
    page.wait_for_function("() => Number(document.body.dataset.tiles ?? 0) >= 2")
    grid_tiles = [url for status, url in watched.tiles if "/tiles/grids/" in url and status == 200]
    assert any(f"plan_id={live_app.draft_plan}" in url for url in grid_tiles)
    assert any(f"plan_id={live_app.active_plan}" in url for url in grid_tiles)
    page.click("#wg-activate")
    page.click("#wg-confirm-activate")
    page.wait_for_selector(f"body[data-activated='{live_app.draft_plan}']")
    plans = {plan["id"]: plan["status"] for plan in live_app.get("planner", "/plans")}
    assert plans == {live_app.active_plan: "archived", live_app.draft_plan: "active"}
    assert page.locator("#wg-activate").is_disabled()


def test_operators_cannot_activate(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/planner", "west_op")
    assert watched.page.locator("#wg-activate").is_disabled()

"""The planner replays a month of cases on plan B next to the active plan: figures side by side,
workers, the workload choropleth and its legend, the CSV export; no console errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from tests.browser.conftest import LiveApp, Watched, log_in, snapshot
from tests.workload.world import BEIJING, GRIDS, add_case

pytestmark = pytest.mark.browser


def test_replay_plan_b_from_the_planner_page(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    with live_app.engine.begin() as connection:
        for k, (lon, lat, grid) in enumerate(((114.305, 30.545, GRIDS[0]), (114.315, 30.555, GRIDS[3]))):
            add_case(connection, "E0201", lon, lat, datetime(2026, 3, 2, 9 + k, tzinfo=BEIJING), grid)
    watched = open_page()
    log_in(watched, live_app.base_url, "/planner", "planner")
    page = watched.page
    page.wait_for_selector(f"body[data-compared='{live_app.active_plan}-{live_app.draft_plan}']")
    page.fill("#wg-since", "2026-03-01")
    page.fill("#wg-until", "2026-04-01")
    page.click("#wg-replay")
    page.wait_for_selector(f"body[data-replayed='{live_app.draft_plan}']", timeout=60000)
    assert "回放完成：2 件案件" in page.locator("#wg-status").inner_text()
    period = page.locator("#wg-replay-period").inner_text()  # Beijing midnights, by clock.js
    assert "2026/3/1 00:00:00" in period and "2026/4/1 00:00:00" in period
    cases_row = page.locator("#wg-replay-summary tr", has_text="案件数").first.inner_text().split()
    assert cases_row[-2:] == ["2", "2"]  # active plan, plan B
    # the busy line comes from the server's workload weights (1.15 × the mean), not from the page
    busy_row = page.locator("#wg-replay-summary tr", has_text="倍的网格").first.inner_text().split()
    assert "1.15" in busy_row and all(cell.isdigit() for cell in busy_row[-2:])
    workers = page.locator("#wg-replay-workers tbody tr")
    assert workers.count() >= 1 and "→" in workers.first.inner_text()
    assert page.locator("#wg-colour").input_value() == "workload"
    assert "工作量 / 平均" in page.locator(".wg-legend").inner_text()
    with page.expect_download() as download:
        page.click("#wg-replay-csv")
    assert download.value.suggested_filename == f"replay-plan-{live_app.draft_plan}.csv"
    page.select_option("#wg-colour", "deviation")
    assert "户数偏差" in page.locator(".wg-legend").inner_text()
    snapshot(watched, "planner_replay")

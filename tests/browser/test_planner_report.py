"""The plan report built from the planner page and opened in a new tab: map legend and scale bar,
both languages, the grids to review; no console errors in the report either. The report keeps its
own sandboxed policy under the app's strict one: its inline scripts run, in an opaque origin that
cannot read the app's storage (the refresh token)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS, LiveApp, Watched, log_in, snapshot

pytestmark = pytest.mark.browser


def test_build_and_open_the_plan_report(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    watched = open_page()
    log_in(watched, live_app.base_url, "/planner", "planner")
    page = watched.page
    page.wait_for_selector(f"body[data-compared='{live_app.active_plan}-{live_app.draft_plan}']")
    page.click("#wg-report")
    page.wait_for_selector(f"body[data-report='{live_app.draft_plan}']", timeout=30000)
    assert "报告已生成" in page.locator("#wg-status").inner_text()
    with page.context.expect_page() as opened:
        page.click("#wg-report-link")
    report = opened.value
    errors: list[str] = []
    report.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    report.on("pageerror", lambda e: errors.append(str(e)))
    report.wait_for_load_state("load")
    report.wait_for_selector(".wg-legend")  # drawn by the report's inline scripts
    policy = httpx.get(report.url).headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts allow-popups;") and "script-src 'unsafe-inline'" in policy
    # the global policy did not replace it, and the document gets no origin of ours
    assert "'self'" not in policy and "allow-same-origin" not in policy
    assert report.evaluate("self.origin") == "null"
    read_storage = "() => { try { return localStorage.length; } catch (error) { return error.name; } }"
    assert report.evaluate(read_storage) == "SecurityError"
    assert page.evaluate("localStorage.getItem('wangge.refresh')")  # the planner's page holds one
    assert report.locator("h1 .zh").inner_text().startswith("武昌区 · ")  # the plan's district, by name
    assert report.locator(".leaflet-control-scale-line").count() == 1  # metric only
    assert (
        report.locator("h2 .zh").first.is_visible() and "户数分布" in report.locator("h2").first.inner_text()
    )
    assert report.locator("#wg-review tbody tr").count() == 4  # the tiny grids hold 1 household, not 300
    report.click("label.wg-lang")
    assert report.locator("h2").first.inner_text() == "Households per area"
    report.screenshot(path=str(ARTIFACTS / "planner_report.png"))
    assert not errors, errors
    snapshot(watched, "planner_report_button")

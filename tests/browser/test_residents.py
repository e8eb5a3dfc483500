"""Residents' pages on a phone: my grid and its worker, a report with a photo through Open311, its
status, a rating once closed (counted in 满意度); the household survey from its link, once."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests import tiny_district
from tests.browser.conftest import PHONE, LiveApp, Watched, photo_file, snapshot
from tests.browser.test_field import dispatched_case
from tests.cases import fixtures as world_fixtures

pytestmark = pytest.mark.browser
LON, LAT = world_fixtures.INCIDENT
RECORD_FORMS = """
window.__postedForms = [];
const originalFetch = window.fetch;
window.fetch = (input, init = {}) => {
  if (init.body instanceof FormData) {
    window.__postedForms.push({
      jurisdiction_id: init.body.get('jurisdiction_id'),
      api_key: init.body.get('api_key'),
      photos: init.body.getAll('media').length,
    });
  }
  return originalFetch(input, init);
};
"""
"""Test instrumentation: note the jurisdiction, api_key and photo count of each multipart form the
page posts."""


@pytest.fixture(scope="module")
def office_phone(live_app: LiveApp) -> str:
    with live_app.engine.begin() as connection:
        connection.execute(
            text("UPDATE team_member SET office_phone = :p, office_phone_synthetic = true WHERE id = :m"),
            {"p": "027-01234567", "m": live_app.members["worker"]},
        )
    return "027-01234567"


def resident(
    open_page: Callable[..., Watched],
    live_app: LiveApp,
    path: str = "/report",
    at: tuple[float, float] = (LON, LAT),
) -> Watched:
    where = {"longitude": at[0], "latitude": at[1]}
    watched = open_page(
        viewport=PHONE, geolocation=where, permissions=["geolocation"], is_mobile=True, has_touch=True
    )
    watched.page.add_init_script(RECORD_FORMS)
    watched.page.goto(f"{live_app.base_url}{path}")
    watched.page.wait_for_selector("body[data-ready='true']", timeout=15000)
    return watched


def second_photo(tmp_path: Path) -> Path:
    """Another valid PNG (2×1 pixels), so the report carries two different photos."""
    path = tmp_path / "second.png"
    path.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAADklEQVR4nGP4z8AAQv8BD/kD/YURmXYAAAAASUVORK5CYII="
        )
    )
    return path


def close_as_staff(live_app: LiveApp, case_id: int) -> None:
    """Operators take the resident's report through dispatch to closed."""
    for action in ("accept", "register"):
        live_app.post("admin", f"/cases/{case_id}/actions/{action}")
    with live_app.engine.begin() as connection:
        connection.execute(
            text("UPDATE team_member SET status = 'available' WHERE id = :w"),
            {"w": live_app.members["worker"]},
        )
    live_app.post("admin", f"/cases/{case_id}/dispatch")
    # whoever disposed may not verify (separation of duties): the west street's operator does
    steps = (("admin", "start"), ("admin", "dispose"), ("west_op", "verify"), ("admin", "close"))
    for actor, action in steps:
        assert live_app.post(actor, f"/cases/{case_id}/actions/{action}").status_code == 200


def test_my_grid_report_follow_and_rate(
    live_app: LiveApp, open_page: Callable[..., Watched], office_phone: str, tmp_path: Path
) -> None:
    watched = resident(open_page, live_app)
    page = watched.page
    page.click("#wg-locate")
    page.wait_for_selector(f"#wg-grid-card[data-grid='{world_fixtures.GRID_SW}']")
    assert page.locator("#wg-worker").inner_text() == "网格员乙"
    assert page.locator("#wg-district").inner_text() == "武昌区"  # the district row's name
    assert page.locator("#wg-demo-data").is_visible()  # its households are recorded as synthetic
    assert page.locator("#wg-grid-card").get_attribute("data-jurisdiction") == world_fixtures.GRID_SW[:6]
    assert (
        office_phone in page.locator("#wg-phone").inner_text()
        and "虚构号码" in page.locator("#wg-phone").inner_text()
    )
    snapshot(watched, "residents_grid")
    page.click(".wg-res-tabs button[data-tab='new']")
    page.select_option("#wg-new-category", "E0201")
    page.fill("#wg-new-description", "楼道口贴满小广告")
    photos = [photo_file(tmp_path), second_photo(tmp_path)]
    page.locator("#wg-new-photo").set_input_files([str(path) for path in photos])
    page.click("#wg-new-submit")
    page.wait_for_selector("#wg-new-result[data-request-id]")
    # the district holding the place and the page's channel key from /config.json, with both photos
    # (Chromium hides multipart bodies from Playwright: see RECORD_FORMS)
    key = (live_app.var_dir / "residents_api_key").read_text().strip()
    assert key and httpx.get(f"{live_app.base_url}/config.json").json()["residents_api_key"] == key
    posted = {"jurisdiction_id": world_fixtures.GRID_SW[:6], "api_key": key, "photos": 2}
    assert page.evaluate("window.__postedForms") == [posted]
    case_id = int(page.locator("#wg-new-result").get_attribute("data-request-id") or 0)
    snapshot(watched, "residents_submitted")
    case = live_app.get("admin", f"/cases/{case_id}")
    digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in photos]
    assert (case["source"], case["description"], case["public"], case["events"][0]["media"]) == (
        "open311",
        "楼道口贴满小广告",
        True,
        [f"media:sha256:{digest}" for digest in digests],
    )
    assert case["events"][0]["actor"] == "open311:residents"  # the page's channel
    # the feed publishes the resident's photo as a public copy
    public = httpx.get(f"{live_app.base_url}/open311/v2/requests/{case_id}.json").json()[0]
    assert public["media_url"] == f"/open311/v2/media/{digests[0]}"
    copy = httpx.get(f"{live_app.base_url}{public['media_url']}")
    assert copy.status_code == 200 and copy.content == photos[0].read_bytes()
    page.click("#wg-follow")
    page.wait_for_selector("#wg-track-card[data-status='open']")
    close_as_staff(live_app, case_id)
    page.click(f"#wg-mine button[data-id='{case_id}']")
    page.wait_for_selector("#wg-track-card[data-status='closed'] .wg-stars")
    page.click("#wg-track-card button[data-rating='4']")
    page.wait_for_selector(f"body[data-rated='{case_id}']")
    assert live_app.get("admin", f"/cases/{case_id}")["rating"] == 4
    snapshot(watched, "residents_rated")
    with live_app.engine.connect() as connection:
        states = (
            connection.execute(
                text("SELECT payload ->> 'state' FROM notification_outbox WHERE case_id = :c ORDER BY id"),
                {"c": case_id},
            )
            .scalars()
            .all()
        )
    assert states[0] == "reported" and states[-1] == "closed"  # the notifications the worker will deliver
    page.click("#wg-lang")
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator(".wg-res-tabs button[data-tab='grid']").inner_text() == "My grid"
    page.evaluate("localStorage.setItem('wangge.lang', 'zh')")


def test_a_place_in_the_other_district(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    """The live app's second district (420111 洪山区): its grid, its name, its jurisdiction."""
    other = (114.30 + tiny_district.OTHER_OFFSET + 0.005, LAT)  # its west street
    page = resident(open_page, live_app, at=other).page
    page.click("#wg-locate")
    page.wait_for_selector(f"#wg-grid-card[data-grid='{tiny_district.OTHER_WEST}00101']")
    assert page.locator("#wg-district").inner_text() == "洪山区"
    assert page.locator("#wg-grid-card").get_attribute("data-jurisdiction") == tiny_district.OTHER
    assert page.locator("#wg-demo-data").count() == 0  # nothing of 洪山区 is recorded as synthetic


def test_refused_location_and_picking_on_the_map(
    live_app: LiveApp, open_page: Callable[..., Watched]
) -> None:
    watched = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page = watched.page
    page.goto(f"{live_app.base_url}/report")
    page.wait_for_selector("body[data-ready='true']")
    page.click("#wg-locate")
    page.wait_for_selector("#wg-geo-msg:not([hidden])")
    assert "拒绝了定位权限" in page.locator("#wg-geo-msg").inner_text()
    page.locator("#map").click(position={"x": 120, "y": 120})  # somewhere on the tiny district's map
    page.wait_for_selector("#wg-grid-card:not([hidden])")


def test_household_survey_once_per_quarter(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    links = live_app.get("west_op", f"/assessment/survey-links?grid={world_fixtures.GRID_SW}")
    url = next(item["url"] for item in links["items"] if item["household_id"] == 2)
    path = url[url.index("/survey?t=") :]
    watched = resident(open_page, live_app, path)
    page = watched.page
    assert "网格员乙" in page.locator("#wg-survey-intro").inner_text()
    for question, score in (("familiarity", 5), ("trust", 4), ("satisfaction", 5)):
        page.locator(f"input[name='{question}'][value='{score}']").check()
    snapshot(watched, "survey")
    page.click("#wg-survey-submit")
    page.wait_for_selector("body[data-outcome='survey.thanks']")
    page.reload()
    page.wait_for_selector("body[data-outcome='survey.answered']")
    with live_app.engine.connect() as connection:
        row = connection.execute(
            text("SELECT channel, familiarity, trust, satisfaction FROM survey_response")
        ).one()
    assert tuple(row) == ("resident", 5, 4, 5)
    page.goto(f"{live_app.base_url}/survey?t=12.2026Q1.garbled")  # (forged ones: tests/residents)
    page.wait_for_selector("body[data-outcome='survey.invalid']")
    sheet_url = f"{live_app.base_url}/assessment/survey-links?grid={world_fixtures.GRID_SW}&format=html"
    sheet = httpx.get(sheet_url, headers=live_app.headers("west_op"))
    assert sheet.status_code == 200 and sheet.text.count("<svg") == 2
    dispatched_case(live_app, "unused")  # leaves the worker free for the other modules' expectations

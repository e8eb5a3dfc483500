"""The command centre's everyday tools in a real browser: hotline desk, search, case detail with
names and photos, legend, category filter, keyboard list, track play-back, exports, server heatmap."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from sqlalchemy import text

from tests.browser.conftest import LiveApp, Watched, log_in, photo_file, snapshot
from tests.cases import fixtures as world_fixtures

pytestmark = pytest.mark.browser
BEIJING = ZoneInfo("Asia/Shanghai")
METRE = 1 / 111_000


def report(live_app: LiveApp, category: str = "E0201", north_m: float = 0.0, **extra: object) -> int:
    lon, lat = world_fixtures.INCIDENT
    body = {"category_code": category, "lon": lon, "lat": lat + north_m * METRE, **extra}
    return int(live_app.post("admin", "/cases", body).json()["id"])


def upload(live_app: LiveApp, path: Path) -> str:
    files = {"file": (path.name, path.read_bytes(), "image/png")}
    response = httpx.post(f"{live_app.base_url}/media", files=files, headers=live_app.headers("admin"))
    response.raise_for_status()
    return str(response.json()["ref"])


def click_map_at(watched: Watched, lon: float, lat: float) -> None:
    point = watched.page.evaluate(
        "([lat, lon]) => { const p = window.wanggeMap.latLngToContainerPoint([lat, lon]); "
        "return [p.x, p.y]; }",
        [lat, lon],
    )
    watched.page.locator("#map").click(position={"x": point[0], "y": point[1]})


def test_hotline_desk_takes_a_call(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    existing = report(live_app, "E0201", description="同一处小广告")
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.click("#wg-desk-open")
    page.wait_for_selector("#wg-desk-form")
    page.evaluate("window.wanggeMap.setView([30.5482, 114.3021], 17, { animate: false })")
    lon, lat = world_fixtures.INCIDENT
    click_map_at(watched, lon, lat + 30 * METRE)  # 30 m from the open case
    page.wait_for_selector("#wg-desk-point[data-lon]")
    assert float(page.get_attribute("#wg-desk-point", "data-lat") or 0) == pytest.approx(
        lat + 30 * METRE, abs=2e-5
    )
    page.select_option("#wg-desk-major", "E02")
    assert page.locator("#wg-desk-minor option").count() == 5  # 请选择 + four 小类 of 宣传广告
    page.select_option("#wg-desk-minor", "E0201")
    page.wait_for_selector(f"#wg-desk-duplicates li[data-case-id='{existing}']")
    assert "100" in page.inner_text("#wg-desk-duplicates")
    page.fill("#wg-desk-description", "市民来电：楼道口有小广告")
    page.fill("#wg-desk-name", "王女士")
    page.fill("#wg-desk-phone", "13800001234")
    snapshot(watched, "command_hotline_desk")
    page.click("#wg-desk-submit")
    page.wait_for_selector("#wg-desk", state="hidden")
    page.wait_for_selector("#wg-case-detail #wg-show-caller")
    case_id = int(page.inner_text("#wg-case-detail h3").split()[0].lstrip("#"))
    assert "12345热线" in page.inner_text("#wg-case-detail")
    assert "13800001234" not in page.inner_text("#wg-case-detail")  # only on request
    page.click("#wg-show-caller")
    page.wait_for_selector("#wg-caller:has-text('13800001234')")
    with live_app.engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT c.phone, i.source FROM case_contact c JOIN incident i ON i.id = c.case_id "
                "WHERE case_id = :c"
            ),
            {"c": case_id},
        ).one()
    assert tuple(stored) == ("13800001234", "hotline")


def test_search_flies_to_areas_and_opens_cases(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    case_id = report(live_app)
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.fill("#wg-search input", "杨园")
    page.wait_for_selector("#wg-search li[data-kind='street']")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => { const c = window.wanggeMap.getCenter(); return c.lng > 114.31 && c.lng < 114.32; }",
        timeout=5000,
    )
    page.fill("#wg-search input", f"#{case_id}")
    page.wait_for_selector(f"#wg-search li[data-kind='case'][data-key='{case_id}']")
    page.click(f"#wg-search li[data-kind='case'][data-key='{case_id}']")
    page.wait_for_selector(f"#wg-case-list li[data-case-id='{case_id}'].selected")
    page.wait_for_function("() => window.wanggeMap.getZoom() >= 16.5", timeout=5000)
    page.fill("#wg-search input", "不存在的地方")
    page.wait_for_selector("#wg-search li.muted")


def test_case_detail_names_photos_and_the_photo_rule(
    live_app: LiveApp, open_page: Callable[..., Watched], tmp_path: Path
) -> None:
    before = upload(live_app, photo_file(tmp_path))
    case_id = report(live_app, "C0101", media=[before])  # 上水井盖: a photo is needed to dispose
    for action in ("accept", "register"):
        live_app.post("admin", f"/cases/{case_id}/actions/{action}")
    live_app.post("admin", f"/cases/{case_id}/dispatch")
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.click(f"#wg-case-list li[data-case-id='{case_id}']")
    page.wait_for_selector("#wg-detail-member")
    assert page.inner_text("#wg-detail-member") == "网格员乙"
    assert "积玉桥街道 / 积玉桥社区 / 第01网格" in page.inner_text("#wg-case-detail")
    page.wait_for_selector("#wg-case-detail .wg-timeline figure[data-loaded='true'] img")
    source = page.get_attribute("#wg-case-detail .wg-timeline figure img", "src") or ""
    assert source.startswith("blob:")  # fetched with the token, never a token in the URL
    assert page.is_visible("#wg-photo-required")
    page.click("#wg-case-detail button[data-action='dispose']")
    page.wait_for_selector("#wg-action-error:has-text('photo_on_dispose')")
    after = tmp_path / "after.png"
    after.write_bytes(photo_file(tmp_path).read_bytes() + b"after")  # another file, another ref
    page.set_input_files("#wg-action-photo", str(after))
    page.click("#wg-case-detail button[data-action='dispose']")
    page.wait_for_selector("#wg-detail-state[data-state='disposed']")
    page.wait_for_selector("#wg-before-after [data-side='after'] figure[data-loaded='true']")
    assert page.locator("#wg-before-after [data-side='before'] figure[data-loaded='true']").count() == 1
    snapshot(watched, "command_case_detail")


def test_legend_category_filter_and_keyboard(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    ads = [report(live_app, "E0201") for _ in range(2)]
    garbage = report(live_app, "E0102")
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.click("#wg-legend summary")
    legend = page.inner_text("#wg-legend")
    for label in (
        "案件状态",
        "派遣",
        "超期（红圈）",
        "网格户数",
        "0–99",
        "道路等级",
        "主干路",
        "人员状态",
        "可接单",
    ):
        assert label in legend, label
    assert (
        page.eval_on_selector("#wg-legend .wg-swatch-dot", "e => getComputedStyle(e).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    page.select_option("#wg-filter-category", "E02")
    page.wait_for_function(
        "(id) => !document.querySelector(`#wg-case-list li[data-case-id='${id}']`)", arg=garbage
    )
    shown = page.eval_on_selector_all(
        "#wg-case-list li[data-case-id]", "items => items.map(i => Number(i.dataset.caseId))"
    )
    assert set(ads) <= set(shown) and garbage not in shown
    page.focus(f"#wg-case-list li[data-case-id='{shown[0]}']")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.caseId")
    assert int(focused) == shown[1]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#wg-case-list li[data-case-id='{shown[1]}'].selected")
    page.wait_for_selector(f"#wg-case-detail h3:has-text('#{shown[1]}')")
    page.click("#wg-lang")  # English
    page.wait_for_selector("body[data-ready='true']")
    assert page.inner_text("#wg-desk-open") == "12345 desk"
    page.click("#wg-legend summary")
    assert "Case states" in page.inner_text("#wg-legend")
    page.click("#wg-lang")
    page.wait_for_selector("body[data-ready='true']")


def test_track_play_back(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    yesterday = datetime.now(BEIJING) - timedelta(days=1)  # device times may not lie in the future
    start = yesterday.replace(hour=8, minute=0, second=0, microsecond=0)
    lon, lat = world_fixtures.INCIDENT
    pings = [
        {"lon": lon + i * 0.0002, "lat": lat, "device_time": (start + timedelta(minutes=i)).isoformat()}
        for i in range(30)
    ]
    live_app.post("worker", "/positions", {"pings": pings})
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    page.click("#wg-tracks-box summary")
    member = live_app.members["worker"]
    page.wait_for_selector(f"#wg-track-member option[value='{member}']", state="attached")
    page.select_option("#wg-track-member", str(member))
    page.fill("#wg-track-date", start.date().isoformat())
    page.click("#wg-track-load")
    page.wait_for_selector("path.wg-track", state="attached")
    assert page.get_attribute("#wg-track-slider", "max") == "29"
    assert page.inner_text("#wg-track-time").endswith("08:00:00")
    page.click("#wg-track-play")
    page.wait_for_function(
        "() => Number(document.querySelector('#wg-track-time').dataset.index) >= 10", timeout=10000
    )
    page.fill("#wg-track-slider", "29")
    assert page.inner_text("#wg-track-time").endswith("08:29:00")


def test_exports_download_in_beijing_time(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    case_id = report(live_app, "E0201", description="导出测试")
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    with page.expect_download() as download_info:
        page.click("#wg-case-tools button[data-format='xlsx']")
    assert download_info.value.suggested_filename == "cases.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "案件号" and "上报时间 (北京时间)" in rows[0]
    row = next(r for r in rows[1:] if r[0] == case_id)
    created = datetime.fromisoformat(live_app.get("admin", f"/cases/{case_id}")["created_at"])
    assert created.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") in row
    page.click("details:has(#wg-kpi) summary")
    with page.expect_download() as ranking_info:
        page.click("#wg-kpi-tools .wg-export:nth-child(2) button[data-format='csv']")
    ranking = list(csv.reader(io.StringIO(Path(ranking_info.value.path()).read_text("utf-8-sig"))))
    assert ranking[0][:5] == ["名次", "区代码", "区", "街道代码", "街道"] and len(ranking) == 3
    assert {row[2] for row in ranking[1:]} == {"武昌区"}  # the admin's district only


def test_heatmap_comes_binned_from_the_server(live_app: LiveApp, open_page: Callable[..., Watched]) -> None:
    report(live_app)
    watched = open_page()
    log_in(watched, live_app.base_url, "/", "admin")
    page = watched.page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.select_option("#wg-heat", "30")
    page.wait_for_selector("#wg-heat-count[data-total]")
    total = live_app.get("admin", "/analytics/heatmap?days=30")["total"]
    assert page.get_attribute("#wg-heat-count", "data-total") == str(total) and total >= 1
    assert any("/analytics/heatmap" in url for url in requests)
    assert not any("/cases?" in url for url in requests)  # no paging of cases into the browser
    assert int(page.get_attribute("canvas.wg-heat", "data-bins") or 0) >= 1

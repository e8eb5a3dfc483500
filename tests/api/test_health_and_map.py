"""GET /health, the map page, its static files and /config.json."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis_api.app import create_app
from gis_api.cases.calendar import default_calendar
from gis_api.config import Settings
from tests.cases.test_holidays import DEFAULT_FILE


def test_health_reports_postgis(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["postgis"].startswith("3.")


def test_map_page_loads_vendored_leaflet_as_module(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'type="module"' in page.text
    assert "/static/vendor/leaflet-1.9.4/leaflet.css" in page.text
    leaflet = client.get("/static/vendor/leaflet-1.9.4/leaflet-src.esm.js")
    assert leaflet.status_code == 200
    assert "1.9.4" in leaflet.text[:400]
    assert client.get("/static/js/main.js").status_code == 200


def test_config_exposes_basemap_setting(database_url: str) -> None:
    settings = Settings(database_url=database_url, basemap_url="https://tiles.example/{z}/{x}/{y}.png")
    with TestClient(create_app(settings)) as client:
        config = client.get("/config.json").json()
    assert [layer["url"] for layer in config["basemap"]["layers"]] == [
        "https://tiles.example/{z}/{x}/{y}.png"
    ]
    assert "basemap_url" not in config  # the pages learn the basemap from one place: config["basemap"]
    assert config["osm_attribution"] == "© OpenStreetMap contributors"


def test_default_config_has_no_basemap(client: TestClient) -> None:
    assert client.get("/config.json").json()["basemap"]["layers"] == []


def test_pages_learn_the_time_zone_from_the_working_calendar(client: TestClient) -> None:
    """One owner: the calendar's zone (Beijing time); no page spells it out itself."""
    assert client.get("/config.json").json()["time_zone"] == default_calendar().zone.key == "Asia/Shanghai"
    pages = Path(__file__).resolve().parents[2] / "webmap"
    spelled = [path.name for path in pages.rglob("*.js") if "Asia/Shanghai" in path.read_text("utf-8")]
    assert spelled == []


def test_the_field_service_worker_keeps_every_module_the_field_app_imports() -> None:
    """Offline the app starts from the worker's shell cache: a module left out breaks the page."""
    scripts = Path(__file__).resolve().parents[2] / "webmap" / "js"
    worker = (scripts.parent / "field-sw.js").read_text(encoding="utf-8")
    seen: set[str] = set()
    todo = ["field.js"]
    imports = re.compile(r"""(?:import|from)\s+'\./([\w.-]+\.js)'""")
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += imports.findall((scripts / module).read_text("utf-8"))
    assert {"secure.js", "clock.js", "session.js"} <= seen
    assert sorted(module for module in seen if f"'/static/js/{module}'" not in worker) == []


def test_health_reports_the_calendar_coverage(client: TestClient) -> None:
    calendar = client.get("/health").json()["calendar"]
    assert calendar["years"][:2] == [2025, 2026]
    assert calendar["covered_until"] == f"{calendar['years'][-1]}-12-31"


@pytest.fixture
def calendar_of_2025_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A calendar whose last year is 2025 (the shipped file cut), as if nobody imported 2026."""
    path = tmp_path / "calendar.toml"
    path.write_text(DEFAULT_FILE.read_text().split("[years.2026]")[0])
    monkeypatch.setenv("WANGGE_CALENDAR_FILE", str(path))
    default_calendar.cache_clear()
    yield
    default_calendar.cache_clear()


def test_health_warns_when_the_calendar_ran_out(client: TestClient, calendar_of_2025_only: None) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["calendar"]["warning"] and body["calendar"]["days_left"] < 0
    assert body["warnings"] == [body["calendar"]["message"]]
    assert "ended on 2025-12-31" in body["warnings"][0] and "wangge calendar import" in body["warnings"][0]

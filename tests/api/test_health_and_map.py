"""GET /health, the map page, its static files and /config.json."""

from fastapi.testclient import TestClient

from gis_api.app import create_app
from gis_api.config import Settings


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

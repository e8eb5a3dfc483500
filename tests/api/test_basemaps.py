"""Basemap presets for China: Tianditu (CGCS2000 = WGS-84, t0-t7, key from settings), Amap (GCJ-02,
the pages shift it), and the settings that cannot work refused with a message naming them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gis_api.app import create_app
from gis_api.basemaps import resolve_basemap
from gis_api.cli import main
from gis_api.config import Settings
from gis_api.errors import InvalidInputError

KEY = "0123456789abcdef0123456789abcdef"


def basemap(**options: str) -> dict[str, object]:
    return resolve_basemap(Settings(**options)).public()  # type: ignore[arg-type]


def test_tianditu_vector_and_imagery_with_their_labels() -> None:
    vec = basemap(basemap="tianditu-vec", tianditu_key=KEY)
    assert vec["datum"] == "wgs84"
    base, labels = vec["layers"]  # type: ignore[misc]
    assert base["url"].startswith("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile")
    assert "LAYER=vec&" in base["url"] and "TILEMATRIXSET=w" in base["url"]
    assert "TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in base["url"] and base["url"].endswith(f"tk={KEY}")
    assert base["subdomains"] == "01234567" and not base["labels"]
    assert "/cva_w/wmts" in labels["url"] and "LAYER=cva&" in labels["url"] and labels["labels"]
    img = basemap(basemap="TIANDITU-IMG ", tianditu_key=KEY)["layers"]
    assert ["LAYER=img&" in img[0]["url"], "LAYER=cia&" in img[1]["url"]] == [True, True]  # type: ignore[index]


def test_amap_is_gcj02() -> None:
    amap = basemap(basemap="amap-vec")
    assert amap["datum"] == "gcj02"
    layer = amap["layers"][0]  # type: ignore[index]
    assert layer["url"].startswith("https://webrd0{s}.is.autonavi.com/appmaptile?")
    assert "x={x}&y={y}&z={z}" in layer["url"] and layer["subdomains"] == "1234"
    assert len(basemap(basemap="amap-img")["layers"]) == 2  # type: ignore[arg-type]
    custom = basemap(basemap_url="https://tiles.example/{z}/{x}/{y}.png", basemap_datum="GCJ02")
    assert (custom["name"], custom["datum"]) == ("custom", "gcj02")
    assert basemap() == {"name": "none", "datum": "wgs84", "layers": []}


def test_tile_origins_for_the_content_security_policy() -> None:
    def origins(**options: str) -> list[str]:
        return resolve_basemap(Settings(**options)).tile_origins()  # type: ignore[arg-type]

    assert origins(basemap="tianditu-img", tianditu_key=KEY) == [
        f"https://t{n}.tianditu.gov.cn" for n in range(8)
    ]
    assert origins(basemap="amap-img") == [f"https://webst0{n}.is.autonavi.com" for n in range(1, 5)]
    assert origins(basemap_url="https://{s}.tiles.example:8443/{z}/{x}/{y}.png") == [
        "https://a.tiles.example:8443",
        "https://b.tiles.example:8443",
        "https://c.tiles.example:8443",
    ]
    assert origins(basemap_url="/tiles/base/{z}/{x}/{y}.png") == []  # our own origin: 'self'
    assert origins() == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"basemap": "tianditu-vec"}, "WANGGE_TIANDITU_KEY"),
        ({"basemap": "tianditu-img", "tianditu_key": "abc&tk=x"}, "letters and digits"),
        ({"basemap": "baidu-vec"}, "BD-09"),
        ({"basemap": "osm"}, "unknown basemap 'osm'"),
        (
            {"basemap_url": "https://b.example/{z}/{x}/{y}.png", "basemap_datum": "bd09"},
            "WANGGE_BASEMAP_DATUM",
        ),
        ({"basemap_url": "javascript:alert(1)"}, "WANGGE_BASEMAP_URL"),
        ({"basemap": "custom"}, "needs WANGGE_BASEMAP_URL"),
    ],
)
def test_settings_that_cannot_work_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        resolve_basemap(Settings(**options))  # type: ignore[arg-type]


def test_config_json_and_refusal_at_startup(database_url: str) -> None:
    settings = Settings(database_url=database_url, basemap="amap-img")
    with TestClient(create_app(settings)) as client:
        config = client.get("/config.json").json()
    assert config["basemap"]["datum"] == "gcj02" and config["time_zone"] == "Asia/Shanghai"
    with pytest.raises(InvalidInputError, match="BD-09"):
        create_app(Settings(database_url=database_url, basemap="baidu"))


def test_serve_refuses_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gis_api.config import get_settings

    monkeypatch.setenv("WANGGE_BASEMAP", "tianditu-vec")
    monkeypatch.delenv("WANGGE_TIANDITU_KEY", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["serve", "--port", "1"]) == 1
    finally:
        get_settings.cache_clear()
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "WANGGE_TIANDITU_KEY" in error

"""Basemaps that work in China, and the datum each one is drawn in.

Tianditu (天地图, the national service) serves web-mercator tiles in CGCS2000, which equals WGS-84 to
within centimetres: our WGS-84 overlays sit on it unchanged. Amap (高德) tiles are drawn in GCJ-02,
about 500 m off WGS-84 around Wuhan: the pages then shift the basemap by the local GCJ-02 offset
(webmap/js/datums.js, a port of gis_api/loaders/chinese_datums.py) so that every overlay, click and
export stays in WGS-84. Baidu tiles (BD-09 in Baidu's own tiling) cannot be aligned and are refused,
like any datum we do not know, with a message naming the setting.

Settings: WANGGE_BASEMAP (a preset name below, or empty), WANGGE_TIANDITU_KEY (Tianditu's browser
key), or WANGGE_BASEMAP_URL with WANGGE_BASEMAP_DATUM (wgs84, cgcs2000 or gcj02) for any other
XYZ tile service.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gis_api.config import Settings
from gis_api.errors import InvalidInputError

TIANDITU_ATTRIBUTION = "© 天地图 Tianditu (国家地理信息公共服务平台)"
AMAP_ATTRIBUTION = "© 高德地图 AutoNavi"
ALIGNABLE_DATUMS = {"wgs84": "wgs84", "cgcs2000": "wgs84", "gcj02": "gcj02"}
"""Datums the pages can align our overlays with, and the one each is drawn as."""


@dataclass(frozen=True)
class TileSource:
    """One XYZ tile layer: Leaflet URL template ({s} = one of `subdomains`), attribution, zooms."""

    url: str
    attribution: str
    subdomains: str = ""
    max_zoom: int = 18
    labels: bool = False
    """A transparent label layer drawn over the base layer."""


@dataclass(frozen=True)
class Basemap:
    """What /config.json tells the pages: the preset, its datum and its tile layers (none = offline)."""

    name: str
    datum: str
    layers: tuple[TileSource, ...] = field(default_factory=tuple)

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "datum": self.datum, "layers": [asdict(layer) for layer in self.layers]}

    def tile_origins(self) -> list[str]:
        """Every origin the pages load tiles from (each {s} subdomain spelled out), sorted: what a
        Content-Security-Policy's img-src must allow besides 'self' (a relative URL is 'self')."""
        origins = set()
        for layer in self.layers:
            for sub in layer.subdomains or " ":
                url = layer.url.replace("{s}", sub.strip())
                scheme, _, rest = url.partition("://")
                if rest:
                    origins.add(f"{scheme}://{rest.split('/', 1)[0]}")
        return sorted(origins)


def tianditu_layer(layer: str, key: str, labels: bool = False) -> TileSource:
    """Tianditu's WMTS in web mercator (the `_w` services) as an XYZ template over t0-t7."""
    url = (
        f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
    )
    return TileSource(url, TIANDITU_ATTRIBUTION, "01234567", 18, labels)


def amap_layer(host: str, style: int, labels: bool = False) -> TileSource:
    url = f"https://{host}0{{s}}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style={style}&x={{x}}&y={{y}}&z={{z}}"
    return TileSource(url, AMAP_ATTRIBUTION, "1234", 18, labels)


def _tianditu(kind: str, label: str, key: str) -> tuple[TileSource, ...]:
    if not key:
        raise InvalidInputError(
            f"basemap tianditu-{kind} needs a Tianditu key: set WANGGE_TIANDITU_KEY "
            "(a browser key from console.tianditu.gov.cn), or unset WANGGE_BASEMAP for no basemap"
        )
    if not key.isascii() or not key.isalnum():
        raise InvalidInputError("WANGGE_TIANDITU_KEY must be letters and digits only (Tianditu's key format)")
    return (tianditu_layer(kind, key), tianditu_layer(label, key, labels=True))


PRESETS = ("tianditu-vec", "tianditu-img", "amap-vec", "amap-img")


def _preset(name: str, key: str) -> Basemap:
    if name == "tianditu-vec":
        return Basemap(name, "wgs84", _tianditu("vec", "cva", key))
    if name == "tianditu-img":
        return Basemap(name, "wgs84", _tianditu("img", "cia", key))
    if name == "amap-vec":
        return Basemap(name, "gcj02", (amap_layer("webrd", 8),))
    if name == "amap-img":
        return Basemap(name, "gcj02", (amap_layer("webst", 6), amap_layer("webst", 8, labels=True)))
    if name.startswith("baidu"):
        raise InvalidInputError(
            f"basemap {name!r} is refused: Baidu tiles use BD-09 in Baidu's own tiling, which our WGS-84 "
            f"overlays cannot be aligned with; use one of {', '.join(PRESETS)}"
        )
    raise InvalidInputError(
        f"unknown basemap {name!r}: expected one of {', '.join(PRESETS)} (or empty for none)"
    )


def _custom(url: str, datum: str, attribution: str) -> Basemap:
    drawn_as = ALIGNABLE_DATUMS.get(datum.strip().lower())
    if drawn_as is None:
        raise InvalidInputError(
            f"WANGGE_BASEMAP_DATUM {datum!r} is refused: overlays can be aligned with wgs84, cgcs2000 or "
            "gcj02 tiles only (BD-09/Baidu tiles would sit hundreds of metres off)"
        )
    if not url.startswith(("https://", "http://", "/")) or "{z}" not in url:
        raise InvalidInputError(
            f"WANGGE_BASEMAP_URL {url[:80]!r} must be an http(s) XYZ template with {{z}}/{{x}}/{{y}}"
        )
    return Basemap("custom", drawn_as, (TileSource(url, attribution, "abc" if "{s}" in url else ""),))


def resolve_basemap(settings: Settings) -> Basemap:
    """The configured basemap, or InvalidInputError naming the setting that cannot work."""
    name = settings.basemap.strip().lower()
    if name and name != "custom":
        return _preset(name, settings.tianditu_key.strip())
    if settings.basemap_url:
        return _custom(settings.basemap_url, settings.basemap_datum, settings.basemap_attribution)
    if name == "custom":
        raise InvalidInputError("WANGGE_BASEMAP=custom needs WANGGE_BASEMAP_URL (an XYZ tile template)")
    return Basemap("none", "wgs84")

"""WGS-84 / GCJ-02 / BD-09 conversions against published reference pairs and real Wuchang outlines."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from gis_api.loaders.chinese_datums import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gis_api.loaders.readers import read_features

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loaders"
GEOD = Geod(ellps="WGS84")

# (wgs_lat, wgs_lng, gcj_lat, gcj_lng), copied from the test suite of the eviltransform library
# (github.com/googollee/eviltransform, python/test.py, TESTS): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]

# City coordinates in all three datums ([lon, lat]), from the gcoord library's fixture
# (github.com/hujiulong/gcoord, test/fixtures/china-cities.json): 荆门, 宜昌 and 鄂州 in Hubei
# (Wuhan's neighbours), plus 沈阳 and 汕头 for other latitudes. Their GCJ-02 values were
# taken from a map service and differ from the published formula by ~0.6 m, so gcoord itself
# checks WGS<->GCJ to 4 decimals (~10 m); the BD-09 values agree with the formula to ~5 mm.
GCOORD_CITIES = [
    ((112.1935849, 31.0376011), (112.1994301, 31.0354012), (112.2058231, 31.0417338)),
    ((111.2808211, 30.6944096), (111.2864741, 30.6919691), (111.2930248, 30.6977103)),
    ((114.8898012, 30.3946322), (114.8948492, 30.3919431), (114.9014563, 30.397616)),
    ((123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    ((116.6775114, 23.3567569), (116.6819735, 23.3540964), (116.6885014, 23.3598884)),
]


def gap_m(computed: tuple[np.ndarray, np.ndarray], expected: tuple[float, float]) -> float:
    """Metres between a converted point and a reference point, both (lon, lat)."""
    return distance_m(float(computed[0]), float(computed[1]), *expected)


def distance_m(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    return float(GEOD.inv(lon_a, lat_a, lon_b, lat_b)[2])


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_reproduces_eviltransform_pairs(
    wgs_lat: float, wgs_lng: float, gcj_lat: float, gcj_lng: float
) -> None:
    lon, lat = wgs84_to_gcj02(wgs_lng, wgs_lat)
    assert float(lon) == pytest.approx(gcj_lng, abs=1e-9)
    assert float(lat) == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_inverts_eviltransform_pairs_within_a_centimetre(
    wgs_lat: float, wgs_lng: float, gcj_lat: float, gcj_lng: float
) -> None:
    lon, lat = gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert distance_m(float(lon), float(lat), wgs_lng, wgs_lat) < 0.01


@pytest.mark.parametrize(("wgs", "gcj", "bd"), GCOORD_CITIES)
def test_gcoord_city_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float], bd: tuple[float, float]
) -> None:
    assert gap_m(wgs84_to_gcj02(*wgs), gcj) < 1.0
    assert gap_m(gcj02_to_wgs84(*gcj), wgs) < 1.0
    assert gap_m(gcj02_to_bd09(*gcj), bd) < 0.05
    assert gap_m(bd09_to_gcj02(*bd), gcj) < 0.05
    assert gap_m(bd09_to_wgs84(*bd), wgs) < 1.0


def test_gcoord_single_point_expectations() -> None:
    """gcoord's unit tests (test/unit/crs/WGS84.spec.ts, BD09.spec.ts) at [123, 45], 5 decimals."""
    np.testing.assert_allclose(wgs84_to_gcj02(123, 45), (123.00607541, 45.00197815), atol=1e-5)
    np.testing.assert_allclose(bd09_to_gcj02(123, 45), (122.99363304, 44.99365430), atol=1e-5)
    np.testing.assert_allclose(bd09_to_wgs84(123, 45), (122.98762210, 44.99171540), atol=1e-5)


def test_round_trips_stay_under_a_metre_over_wuchang() -> None:
    generator = np.random.default_rng(420106)
    lon = generator.uniform(114.25, 114.43, 20_000)
    lat = generator.uniform(30.49, 30.63, 20_000)
    back_from_gcj = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    back_from_bd = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    for back_lon, back_lat in (back_from_gcj, back_from_bd):
        errors = GEOD.inv(lon, lat, back_lon, back_lat)[2]
        assert float(np.max(errors)) < 1.0
        assert float(np.max(errors)) < 0.001  # the iteration actually converges to sub-millimetre


def test_offset_around_wuchang_matches_provenance_note() -> None:
    """PROVENANCE.md: around Wuchang GCJ-02 is offset by about +0.0055° lon and -0.0024° lat."""
    lon, lat = wgs84_to_gcj02(114.34, 30.56)
    assert float(lon) - 114.34 == pytest.approx(0.0055, abs=0.0002)
    assert float(lat) - 30.56 == pytest.approx(-0.0024, abs=0.0002)
    assert 450 < distance_m(114.34, 30.56, float(lon), float(lat)) < 650


def test_points_outside_china_are_unchanged() -> None:
    lon = np.array([2.35, -74.0, 183.0])
    lat = np.array([48.85, 40.7, 45.0])
    assert out_of_china(lon, lat).all()
    for converted in (wgs84_to_gcj02(lon, lat), gcj02_to_wgs84(lon, lat)):
        np.testing.assert_array_equal(converted[0], lon)
        np.testing.assert_array_equal(converted[1], lat)


def iou(first: BaseGeometry, second: BaseGeometry) -> float:
    metric = gpd.GeoSeries([first, second], crs="EPSG:4326").to_crs("EPSG:32650")
    return float(metric.iloc[0].intersection(metric.iloc[1]).area / metric.iloc[0].union(metric.iloc[1]).area)


def test_amap_outline_is_gcj02_real_data() -> None:
    """Shifting the OSM outline into GCJ-02 makes it match Amap's outline (PROVENANCE: 0.76 -> 0.89).

    The figures are for Amap's main part; its 4.4 km² exclave near 30.34 N is not in OSM's outline.
    """
    osm = read_features(FIXTURES / "wuchang_district_osm.geojson").geometry.iloc[0]
    amap_parts = read_features(FIXTURES / "wuchang_district_amap_gcj02.geojson").geometry.iloc[0]
    amap_main = max(amap_parts.geoms, key=lambda part: part.area)

    def to_gcj02(coordinates: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(coordinates[:, 0], coordinates[:, 1]))

    osm_in_gcj02 = shapely.transform(osm, to_gcj02)
    assert iou(osm, amap_main) == pytest.approx(0.76, abs=0.01)
    assert iou(osm_in_gcj02, amap_main) == pytest.approx(0.89, abs=0.01)


def test_reading_amap_outline_as_gcj02_moves_it_onto_osm_real_data() -> None:
    osm = read_features(FIXTURES / "wuchang_district_osm.geojson").geometry.iloc[0]
    path = FIXTURES / "wuchang_district_amap_gcj02.geojson"
    as_declared = read_features(path).geometry.iloc[0]
    converted = read_features(path, crs="gcj02").geometry.iloc[0]
    assert iou(osm, converted) > iou(osm, as_declared) + 0.1
    assert iou(osm, max(converted.geoms, key=lambda part: part.area)) == pytest.approx(0.89, abs=0.01)

"""read_features: every supported format lands in EPSG:4326; every bad file gets a precise LoadError."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pyogrio
import pytest
from shapely.geometry import Point, box

from gis_api.errors import LoadError
from gis_api.loaders.chinese_datums import Transform, wgs84_to_bd09, wgs84_to_gcj02
from gis_api.loaders.readers import SOURCE_ROW, read_features

OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="30.5400" lon="114.3000" version="1"/>
  <node id="2" lat="30.5400" lon="114.3050" version="1"/>
  <node id="3" lat="30.5450" lon="114.3050" version="1">
    <tag k="amenity" v="community_centre"/><tag k="name" v="社区服务中心"/>
  </node>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>
"""


def metric_points(lon: np.ndarray, lat: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:32650")


def street_frame(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["420106001", "420106002"], "name": ["积玉桥街道", "杨园街道"]},
        geometry=[box(114.30, 30.54, 114.31, 30.56), box(114.31, 30.54, 114.32, 30.56)],
        crs=crs,
    )


def test_geojson_is_read_with_source_rows(fixtures: Path) -> None:
    features = read_features(fixtures / "streets.geojson")
    assert features.crs.to_epsg() == 4326
    assert list(features["code"]) == ["420106001", "420106002"]
    assert list(features[SOURCE_ROW]) == [1, 2]


def test_shapefile_and_zipped_shapefile(tmp_path: Path) -> None:
    shapefile = tmp_path / "streets.shp"
    pyogrio.write_dataframe(street_frame(), shapefile, encoding="UTF-8")
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in tmp_path.glob("streets.*"):
            if part != archive:
                bundle.write(part, part.name)
    for path in (shapefile, archive):
        features = read_features(path)
        assert list(features["name"]) == ["积玉桥街道", "杨园街道"]
        assert features.total_bounds == pytest.approx([114.30, 30.54, 114.32, 30.56])


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_needs_crs(tmp_path: Path) -> None:
    shapefile = tmp_path / "streets.shp"
    pyogrio.write_dataframe(street_frame(crs=None), shapefile)
    with pytest.raises(LoadError, match=r"streets\.shp has no CRS; pass --crs"):
        read_features(shapefile)
    assert len(read_features(shapefile, crs="wgs84")) == 2


def test_projected_geopackage_is_reprojected_and_layer_chosen(tmp_path: Path) -> None:
    package = tmp_path / "areas.gpkg"
    pyogrio.write_dataframe(street_frame().to_crs("EPSG:32650"), package, layer="streets")
    pyogrio.write_dataframe(street_frame().iloc[:1], package, layer="first_street", append=False)
    with pytest.raises(LoadError, match=r"several layers \(.*streets.*\); pass --layer"):
        read_features(package)
    features = read_features(package, layer="streets")
    assert features.crs.to_epsg() == 4326
    assert features.total_bounds == pytest.approx([114.30, 30.54, 114.32, 30.56], abs=1e-7)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_declared_epsg_overrides_a_missing_crs(tmp_path: Path) -> None:
    shapefile = tmp_path / "metric.shp"
    pyogrio.write_dataframe(street_frame().to_crs("EPSG:32650").set_crs(None, allow_override=True), shapefile)
    features = read_features(shapefile, crs="EPSG:32650")
    assert features.total_bounds == pytest.approx([114.30, 30.54, 114.32, 30.56], abs=1e-7)


@pytest.mark.parametrize(
    ("header", "row"),
    [("lon,lat", "114.305,30.545"), ("LNG,Latitude", "114.305,30.545"), ("y,x", "30.545,114.305")],
)
def test_csv_coordinate_columns_are_recognised(tmp_path: Path, header: str, row: str) -> None:
    path = tmp_path / "points.csv"
    path.write_text(f"id,{header}\n7,{row}\n", encoding="utf-8")
    features = read_features(path, crs="wgs84")
    assert features.geometry.iloc[0].equals(Point(114.305, 30.545))
    assert features["id"].iloc[0] == "7"
    assert features[SOURCE_ROW].iloc[0] == 2  # the line number, after the header


def test_gbk_csv_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("名称,经度,纬度\n黄鹤楼,114.29705,30.54708\n".encode("gbk"))
    features = read_features(path, crs="wgs84")  # 经度/纬度 are recognised like lon/lat
    assert features["名称"].iloc[0] == "黄鹤楼"
    assert features.geometry.iloc[0].equals(Point(114.29705, 30.54708))


def test_csv_columns_can_be_named(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("id,east,north\n1,114.305,30.545\n", encoding="utf-8")
    features = read_features(path, crs="wgs84", lon_column="east", lat_column="north")
    assert features.geometry.iloc[0].equals(Point(114.305, 30.545))


def test_csv_without_crs_is_refused(fixtures: Path) -> None:
    with pytest.raises(LoadError, match=r"households\.csv has no CRS; pass --crs"):
        read_features(fixtures / "households.csv")


def test_malformed_csv_names_the_line(fixtures: Path) -> None:
    with pytest.raises(LoadError, match=r"households_malformed\.csv line 4: malformed CSV, lon is 'abc'"):
        read_features(fixtures / "households_malformed.csv", crs="wgs84")


def test_csv_without_latitude_column(fixtures: Path) -> None:
    with pytest.raises(LoadError, match=r"no latitude column .*pass --lat-column"):
        read_features(fixtures / "households_no_lat.csv", crs="wgs84")


def test_csv_with_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,lon,lat\n1,114.3,30.5\n2,114.3,30.5,9,9\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"ragged\.csv: malformed CSV .*line 3"):
        read_features(path, crs="wgs84")


def test_swapped_lon_lat_is_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "swapped.csv"
    path.write_text("lat,lon\n114.305,30.545\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"swapped\.csv line 2: coordinates outside the lon/lat range"):
        read_features(path, crs="wgs84")


def test_projected_coordinates_declared_as_wgs84_are_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "metres.csv"
    path.write_text("x,y\n12727000,3580000\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"outside the lon/lat range .*pass --crs EPSG"):
        read_features(path, crs="wgs84")


@pytest.mark.parametrize(("datum", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_offset_datums_are_converted_to_wgs84(tmp_path: Path, datum: str, forward: Transform) -> None:
    truth = np.array([[114.3051234, 30.5456789], [114.3400000, 30.5600000]])
    shifted_lon, shifted_lat = forward(truth[:, 0], truth[:, 1])
    path = tmp_path / f"points_{datum}.csv"
    lines = [f"{float(lon)!r},{float(lat)!r}" for lon, lat in zip(shifted_lon, shifted_lat, strict=True)]
    path.write_text("lon,lat\n" + "\n".join(lines) + "\n", encoding="utf-8")
    loaded = read_features(path, crs=datum).to_crs("EPSG:32650").geometry
    expected = metric_points(truth[:, 0], truth[:, 1])
    assert (loaded.distance(expected) < 1.0).all()
    assert (metric_points(shifted_lon, shifted_lat).distance(expected) > 400).all()


def test_gcj02_on_a_projected_file_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "metric.gpkg"
    pyogrio.write_dataframe(street_frame().to_crs("EPSG:32650"), package)
    with pytest.raises(LoadError, match=r"--crs gcj02 declares lon/lat degrees"):
        read_features(package, crs="gcj02")


def test_osm_xml_and_pbf(tmp_path: Path) -> None:
    xml = tmp_path / "tiny.osm"
    xml.write_text(OSM_XML, encoding="utf-8")
    pbf = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for entity in osmium.FileProcessor(str(xml)):
            writer.add(entity)
    for path in (xml, pbf):
        lines = read_features(path, layer="lines")
        assert sorted(lines["highway"]) == ["primary", "residential"]
        points = read_features(path, layer="points")
        assert list(points["name"]) == ["社区服务中心"]


def test_empty_files(tmp_path: Path, fixtures: Path) -> None:
    with pytest.raises(LoadError, match=r"empty\.geojson: the file contains no features"):
        read_features(fixtures / "empty.geojson")
    blank = tmp_path / "blank.csv"
    blank.write_text("", encoding="utf-8")
    with pytest.raises(LoadError, match=r"blank\.csv: the file is empty"):
        read_features(blank, crs="wgs84")
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,lon,lat\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"header\.csv: the file contains no features"):
        read_features(header_only, crs="wgs84")


def test_unreadable_unknown_and_missing_files(tmp_path: Path) -> None:
    garbage = tmp_path / "broken.geojson"
    garbage.write_bytes(b"{ not json at all")
    with pytest.raises(LoadError, match=r"broken\.geojson: cannot read the file"):
        read_features(garbage)
    binary = tmp_path / "binary.geojson"
    binary.write_bytes(b'{"type": "Feature\x00\x01"}')
    with pytest.raises(LoadError, match=r"binary\.geojson: NUL byte at offset 17; this is not a text file"):
        read_features(binary)
    unknown = tmp_path / "drawing.dwg"
    unknown.write_bytes(b"AC1032")
    with pytest.raises(LoadError, match=r"drawing\.dwg: unknown format '\.dwg'"):
        read_features(unknown)
    with pytest.raises(LoadError, match=r"nowhere\.geojson: no such file"):
        read_features(tmp_path / "nowhere.geojson")


def test_unknown_crs_name(fixtures: Path) -> None:
    with pytest.raises(LoadError, match=r"unknown CRS 'mars'"):
        read_features(fixtures / "streets.geojson", crs="mars")

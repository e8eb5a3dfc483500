"""Formats beyond GeoJSON/Shapefile: Excel, KML/KMZ, FileGDB, Chinese CSV encodings, and bad files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from gis_api.errors import LoadError
from gis_api.loaders import readers, tables
from gis_api.loaders.readers import read_features
from tests.loaders.conftest import FIXTURES

COMPOUNDS_WGS84 = np.array([[114.3030, 30.5430], [114.3050, 30.5530], [114.3150, 30.5450]])


def metres_apart(points: np.ndarray, expected: np.ndarray) -> np.ndarray:
    dlon = (points[:, 0] - expected[:, 0]) * 111_320 * np.cos(np.radians(expected[:, 1]))
    dlat = (points[:, 1] - expected[:, 1]) * 110_574
    return np.hypot(dlon, dlat)


def test_excel_register_with_chinese_headers_in_bd09() -> None:
    register = read_features(FIXTURES / "registers_bd09.xlsx", crs="bd09")
    assert list(register["小区名称"]) == ["积玉桥小区", "和平苑", "杨园新村"]
    assert list(register["户数"]) == ["120", "300", "80"]
    assert list(register["source_row"]) == [2, 3, 4]  # spreadsheet rows, row 1 is the header
    xy = np.column_stack([register.geometry.x, register.geometry.y])
    assert metres_apart(xy, COMPOUNDS_WGS84).max() < 0.5  # 6 decimals of BD-09 ≈ 0.1 m


def test_sheet_must_be_named_when_there_are_several(tmp_path: Path) -> None:
    import pandas as pd

    book = tmp_path / "two_sheets.xlsx"
    frame = pd.DataFrame({"lon": ["114.303"], "lat": ["30.543"]})
    pyogrio.write_dataframe(frame, book, layer="一月", driver="XLSX")
    pyogrio.write_dataframe(frame, book, layer="二月", driver="XLSX", append=True)
    with pytest.raises(LoadError, match=r"two_sheets\.xlsx has several sheets \(一月, 二月\); pass --layer"):
        read_features(book, crs="wgs84")
    assert len(read_features(book, crs="wgs84", layer="二月")) == 1


def test_gb18030_csv_with_chinese_headers() -> None:
    register = read_features(FIXTURES / "households_gb18030.csv", crs="wgs84")
    assert list(register.columns[:4]) == ["编号", "经度", "纬度", "户数"]
    assert list(register["户数"]) == ["120", "300", "80"]


def test_utf16_csv_from_excel_unicode_text(tmp_path: Path) -> None:
    utf16 = tmp_path / "unicode.csv"
    utf16.write_text("编号,经度,纬度\n1,114.303,30.543\n", encoding="utf-16")
    assert read_features(utf16, crs="wgs84")["编号"].tolist() == ["1"]


@pytest.mark.parametrize("name", ["buildings.kml", "buildings.kmz", "buildings.gdb"])
def test_kml_kmz_and_filegdb_read_like_geojson(name: str) -> None:
    buildings = read_features(FIXTURES / name)
    id_column = "id" if name.endswith(".gdb") else "编号"
    assert list(buildings[id_column]) == ["B1", "B2"]
    assert [int(value) for value in buildings["households"]] == [120, 80]
    assert buildings.crs.to_epsg() == 4326
    assert not buildings.geometry.has_z.any()  # KML's altitude is dropped
    assert buildings.geometry.iloc[0].bounds == pytest.approx((114.3026, 30.5426, 114.3034, 30.5434))


def test_missing_gdal_driver_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    drivers = {name: mode for name, mode in pyogrio.list_drivers().items() if name != "OpenFileGDB"}
    monkeypatch.setattr(tables.pyogrio, "list_drivers", lambda: drivers)
    with pytest.raises(LoadError, match=r"buildings\.gdb: this installation's GDAL .* has no OpenFileGDB"):
        read_features(FIXTURES / "buildings.gdb")


def test_kmz_without_libkml_reads_the_inner_kml(monkeypatch: pytest.MonkeyPatch) -> None:
    drivers = {name: mode for name, mode in pyogrio.list_drivers().items() if name != "LIBKML"}
    monkeypatch.setattr(readers.pyogrio, "list_drivers", lambda: drivers)
    assert len(read_features(FIXTURES / "buildings.kmz")) == 2


def test_nul_bytes_in_a_csv(tmp_path: Path) -> None:
    broken = tmp_path / "register.csv"
    broken.write_bytes(b"id,lon,lat\n1,114.303,30.543\x00\n")
    with pytest.raises(LoadError, match=r"register\.csv: NUL byte at offset 27; this is not a text file"):
        read_features(broken, crs="wgs84")


def test_absurd_file_size_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:  # sparse: takes no disk
        handle.truncate(readers.MAX_INPUT_BYTES + 1)
    with pytest.raises(LoadError, match=r"huge\.csv: 4\.0 GiB is over the 4 GiB limit for one file"):
        read_features(huge, crs="wgs84")
    os.remove(huge)


def test_bad_coordinates_are_kept_as_rows_without_geometry_on_request(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat\n1,114.303,30.543\n2,,30.55\n3,114.31,北纬30度\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"register\.csv line 3: malformed CSV, lon is empty"):
        read_features(register, crs="wgs84")
    kept = read_features(register, crs="wgs84", keep_bad_rows=True)
    assert kept.geometry.isna().tolist() == [False, True, True]
    assert kept.attrs[tables.ROW_PROBLEMS] == {
        1: "lon is empty, not a number",
        2: "lat is '北纬30度', not a number",
    }


def test_a_folder_that_is_not_a_filegdb(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"is a folder; only a FileGDB \(\.gdb\) folder can be loaded"):
        read_features(tmp_path)

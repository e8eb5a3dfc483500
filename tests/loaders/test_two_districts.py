"""Loaders in a database of two districts: rows carry their district, and a file of one district
never takes over or moves the other's households, buildings, water or parks."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box
from sqlalchemy import Connection, text

from gis_api.errors import LoadError
from gis_api.loaders.areas import load_zones
from gis_api.loaders.households import load_households
from gis_api.loaders.service import load_buildings
from tests import tiny_district
from tests.loaders.conftest import FIXTURES

A, B = tiny_district.DISTRICT, tiny_district.OTHER


@pytest.fixture
def both(connection: Connection) -> Connection:
    tiny_district.build(connection)
    tiny_district.build_other(connection)
    return connection


def rows(connection: Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in connection.execute(text(sql))]


def moved_east(path: Path, tmp_path: Path) -> Path:
    """A GeoJSON fixture shifted into district B (same ids, same file name)."""
    frame = gpd.read_file(path)
    frame["geometry"] = frame.geometry.translate(xoff=tiny_district.OTHER_OFFSET)
    target = tmp_path / "east" / path.name
    target.parent.mkdir()
    frame.to_file(target, driver="GeoJSON")
    return target


def test_a_river_along_both_districts_is_a_row_of_each(both: Connection, tmp_path: Path) -> None:
    river = gpd.GeoDataFrame(
        {"id": [7], "name": ["长江"]}, geometry=[box(114.25, 30.555, 114.40, 30.58)], crs=4326
    )
    path = tmp_path / "river.geojson"
    pyogrio.write_dataframe(river, path)
    load_zones(both, path, "water", district=A)
    again = load_zones(both, path, "water", district=B)
    assert again.inserted == 1  # B's own clipped part, not A's row taken over
    parts = rows(
        both,
        "SELECT district_code, source_id, round(ST_XMin(geom)::numeric, 3)::float, "
        "round(ST_XMax(geom)::numeric, 3)::float "
        "FROM water ORDER BY district_code",
    )
    assert parts == [
        (A, "7", 114.300, 114.320),
        (B, "7", 114.330, 114.350),
    ]  # each clipped to its own (+30 m)
    assert rows(both, "SELECT district_code, layer, synthetic FROM data_layer ORDER BY 1") == [
        (A, "water", False),
        (B, "water", False),
    ]


def test_a_register_cannot_take_over_the_other_districts_households(both: Connection, tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat\n2,114.335,30.545\n", encoding="utf-8")  # id 2 is A's household
    with pytest.raises(LoadError, match=r"1 household id\(s\) already belong to another district \(2\)"):
        load_households(both, register, crs="wgs84", district=B)
    assert rows(
        both, "SELECT district_code, round(ST_X(geom)::numeric, 4)::float FROM household WHERE id = 2"
    ) == [(A, 114.305)]


def test_buildings_of_the_same_file_name_and_ids_stay_apart(both: Connection, tmp_path: Path) -> None:
    load_buildings(both, FIXTURES / "buildings.geojson", district=A)
    east = moved_east(FIXTURES / "buildings.geojson", tmp_path)
    with pytest.raises(
        LoadError, match=r"already belong to another district .* give this file its own --source"
    ):
        load_buildings(both, east, district=B)
    assert rows(both, "SELECT DISTINCT district_code FROM building") == [(A,)]
    report = load_buildings(both, east, district=B, source="buildings_east")
    assert (
        report.inserted == rows(both, f"SELECT count(*) FROM building WHERE district_code = '{B}'")[0][0] > 0
    )
    assert rows(both, "SELECT district_code, count(*) FROM building GROUP BY 1 ORDER BY 1") == [
        (A, report.inserted),
        (B, report.inserted),
    ]

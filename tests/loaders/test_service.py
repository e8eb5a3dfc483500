"""The loaders against real PostGIS: good files load, bad files fail loudly and write nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.errors import LoadError
from gis_api.loaders.chinese_datums import Transform, wgs84_to_bd09, wgs84_to_gcj02
from gis_api.loaders.readers import read_features
from gis_api.loaders.service import load_boundaries, load_buildings, load_households
from tests.loaders.conftest import DISTRICT_WKT, FIXTURES, count
from tests.tiny_district import insert_district

BOUNDARY_TABLES = ("district", "street", "plan", "community", "grid")


def counts(
    session: Session, tables: tuple[str, ...] = (*BOUNDARY_TABLES, "building", "household")
) -> dict[str, int]:
    return {table: count(session, table) for table in tables}


# --- boundaries -------------------------------------------------------------------------


def test_real_osm_district_outline_loads(db_session: Session, tmp_path: Path) -> None:
    outline = read_features(FIXTURES / "wuchang_district_osm.geojson")
    with pytest.raises(
        LoadError, match=r"invalid district code\(s\), 6 digits: feature 1 \(relation/3076297\)"
    ):
        load_boundaries(
            db_session, FIXTURES / "wuchang_district_osm.geojson", level="district", code_column="id"
        )
    outline = outline[["name", "geometry"]].assign(code="420106")
    path = tmp_path / "wuchang.geojson"
    pyogrio.write_dataframe(outline, path)
    with pytest.raises(LoadError, match=r"city 4201 is not known yet: give its name with --city-name"):
        load_boundaries(db_session, path, level="district")
    report = load_boundaries(db_session, path, level="district", city_name="武汉市")
    assert report.inserted == 1
    area_km2, crs = db_session.execute(
        text(
            "SELECT ST_Area(ST_Transform(geom, 32650)) / 1e6, metric_crs FROM district WHERE code = '420106'"
        )
    ).one()
    assert area_km2 == pytest.approx(96.49, abs=0.05)  # PROVENANCE.md: 96.49 km² in EPSG:32650
    assert crs == "EPSG:4547"  # chosen from the location: CGCS2000 3° Gauss-Krüger, CM 114°E


def test_streets_load_then_reload_is_idempotent(db_session: Session, district: str) -> None:
    report = load_boundaries(db_session, FIXTURES / "streets.geojson", level="street")
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    assert "streets.geojson -> street: 2 inserted" in str(report)
    again = load_boundaries(db_session, FIXTURES / "streets.geojson", level="street")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    rows = db_session.execute(
        text("SELECT code, name, district_code, ST_GeometryType(geom) FROM street ORDER BY code")
    ).all()
    assert rows == [
        ("420106001", "积玉桥街道", "420106", "ST_MultiPolygon"),
        ("420106002", "杨园街道", "420106", "ST_MultiPolygon"),
    ]


def test_changed_street_is_updated(db_session: Session, district: str, tmp_path: Path) -> None:
    load_boundaries(db_session, FIXTURES / "streets.geojson", level="street")
    renamed = read_features(FIXTURES / "streets.geojson")
    renamed.loc[0, "name"] = "积玉桥街道办事处"
    changed = tmp_path / "streets_renamed.geojson"
    pyogrio.write_dataframe(renamed.drop(columns="source_row"), changed)
    report = load_boundaries(db_session, changed, level="street")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    name = db_session.execute(text("SELECT name FROM street WHERE code = '420106001'")).scalar_one()
    assert name == "积玉桥街道办事处"


def test_self_intersecting_street_is_repaired_and_reported(db_session: Session, district: str) -> None:
    report = load_boundaries(db_session, FIXTURES / "streets_self_intersecting.geojson", level="street")
    assert report.repaired == 1 and report.inserted == 2
    assert "feature 1 (420106001): repaired Ring Self-intersection" in str(report)
    valid = db_session.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM street")).scalar_one()
    assert valid is True


def test_bow_tie_street_is_rejected_and_nothing_written(db_session: Session, district: str) -> None:
    before = counts(db_session)
    with pytest.raises(
        LoadError, match=r"1 feature\(s\) rejected.*feature 2 \(420106002\): invalid geometry"
    ):
        load_boundaries(db_session, FIXTURES / "streets_bowtie.geojson", level="street")
    assert counts(db_session) == before


def test_bow_tie_can_be_skipped_on_request(db_session: Session, district: str, tmp_path: Path) -> None:
    source = tmp_path / "streets_bowtie.geojson"
    shutil.copy(FIXTURES / "streets_bowtie.geojson", source)
    report = load_boundaries(db_session, source, level="street", skip_invalid=True)
    assert (report.inserted, report.rejected) == (1, 1)
    assert "skipped feature 2 (420106002)" in str(report)
    rejected = pd.read_csv(tmp_path / "streets_bowtie.geojson.rejected.csv", dtype=str)
    assert rejected[["feature", "code"]].values.tolist() == [["2", "420106002"]]
    assert rejected["reason"].iloc[0].startswith("invalid geometry (Self-intersection")
    assert rejected["geometry_wkt"].iloc[0].startswith("POLYGON ((114.31")


def test_street_outside_district_fails_and_writes_nothing(db_session: Session, district: str) -> None:
    before = counts(db_session)
    with pytest.raises(
        LoadError, match=r"1 feature\(s\) lie outside district 420106.*feature 2 \(420106003\)"
    ):
        load_boundaries(db_session, FIXTURES / "streets_outside.geojson", level="street")
    assert counts(db_session) == before


def test_streets_need_a_district(db_session: Session) -> None:
    with pytest.raises(LoadError, match=r"district '420106' is not loaded; loaded: none"):
        load_boundaries(db_session, FIXTURES / "streets.geojson", level="street")


def test_empty_file_fails(db_session: Session, district: str) -> None:
    before = counts(db_session)
    with pytest.raises(LoadError, match=r"empty\.geojson: the file contains no features"):
        load_boundaries(db_session, FIXTURES / "empty.geojson", level="street")
    assert counts(db_session) == before


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs_fails(db_session: Session, district: str, tmp_path: Path) -> None:
    no_prj = tmp_path / "streets.shp"
    pyogrio.write_dataframe(
        read_features(FIXTURES / "streets.geojson").set_crs(None, allow_override=True), no_prj
    )
    before = counts(db_session)
    with pytest.raises(LoadError, match=r"streets\.shp has no CRS; pass --crs"):
        load_boundaries(db_session, no_prj, level="street")
    assert counts(db_session) == before
    assert load_boundaries(db_session, no_prj, level="street", crs="wgs84").inserted == 2


def test_street_code_must_start_with_parent(db_session: Session, district: str, tmp_path: Path) -> None:
    frame = read_features(FIXTURES / "streets.geojson").drop(columns="source_row")
    frame["district"] = ["420106", "420111"]
    path = tmp_path / "streets_parent.geojson"
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(LoadError, match=r"do not start with their 6-digit district code: feature 2"):
        load_boundaries(db_session, path, level="street", parent_code_column="district")


def test_communities_and_grids_into_a_new_draft_plan(db_session: Session, streets: list[str]) -> None:
    communities = load_boundaries(
        db_session, FIXTURES / "communities.geojson", level="community", plan_name="新方案"
    )
    assert communities.inserted == 2
    assert "created draft plan '新方案'" in str(communities)
    grids = load_boundaries(db_session, FIXTURES / "grids.geojson", level="grid", plan_name="新方案")
    assert grids.inserted == 3
    rows = db_session.execute(
        text(
            "SELECT p.status::text, count(*) FROM grid g JOIN plan p ON p.id = g.plan_id "
            "JOIN community c ON c.id = g.community_id AND left(g.code, 12) = c.code GROUP BY 1"
        )
    ).all()
    assert rows == [("draft", 3)]
    again = load_boundaries(db_session, FIXTURES / "grids.geojson", level="grid", plan_name="新方案")
    assert again.unchanged == 3 and count(db_session, "plan") == 1


def test_grids_need_their_community(db_session: Session, streets: list[str]) -> None:
    before = counts(db_session)
    with pytest.raises(
        LoadError, match=r"2 community code\(s\) are not loaded in this plan: 420106001001, 420106002001"
    ):
        load_boundaries(db_session, FIXTURES / "grids.geojson", level="grid", plan_name="空方案")
    assert counts(db_session) == before  # not even the draft plan is kept


def test_communities_need_a_plan(db_session: Session, streets: list[str]) -> None:
    with pytest.raises(LoadError, match=r"no active plan: pass --plan NAME"):
        load_boundaries(db_session, FIXTURES / "communities.geojson", level="community")


# --- households ------------------------------------------------------------------------


def test_households_are_assigned_to_grids(db_session: Session, active_plan: int) -> None:
    report = load_households(db_session, FIXTURES / "households.csv", crs="wgs84")
    assert report.inserted == 8
    by_grid: dict[str, int] = dict(
        db_session.execute(
            text("SELECT g.code, count(*) FROM household h JOIN grid g ON g.id = h.grid_id GROUP BY 1")
        ).all()
    )
    assert by_grid == {"42010600100101": 3, "42010600100102": 2, "42010600200101": 3}
    grid_counts: dict[str, int] = dict(db_session.execute(text("SELECT code, households FROM grid")).all())
    assert grid_counts == by_grid
    residents = db_session.execute(text("SELECT residents FROM household WHERE id = 7")).scalar_one()
    assert residents == 1  # empty cell -> default
    again = load_households(db_session, FIXTURES / "households.csv", crs="wgs84")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 8)


def test_households_outside_district_fail(db_session: Session, active_plan: int) -> None:
    before = counts(db_session)
    with pytest.raises(
        LoadError, match=r"2 feature\(s\) lie outside district 420106.*line 4 \(3\), line 5 \(4\)"
    ):
        load_households(db_session, FIXTURES / "households_outside.csv", crs="wgs84")
    assert counts(db_session) == before


def test_households_outside_every_grid_fail(db_session: Session, active_plan: int) -> None:
    db_session.execute(text("DELETE FROM grid WHERE code = '42010600200101'"))
    before = counts(db_session)
    with pytest.raises(LoadError, match=r"3 household\(s\) lie outside every grid .*ids 6, 7, 8"):
        load_households(db_session, FIXTURES / "households.csv", crs="wgs84")
    assert counts(db_session) == before


def test_malformed_households_csv_fails(db_session: Session, active_plan: int) -> None:
    before = counts(db_session)
    with pytest.raises(LoadError, match=r"households_malformed\.csv line 4: malformed CSV"):
        load_households(db_session, FIXTURES / "households_malformed.csv", crs="wgs84")
    assert counts(db_session) == before


def test_households_csv_without_crs_fails(db_session: Session, active_plan: int) -> None:
    with pytest.raises(LoadError, match=r"has no CRS; pass --crs"):
        load_households(db_session, FIXTURES / "households.csv")


def test_household_ids_must_be_unique_and_whole(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("id,lon,lat\n1,114.302,30.542\n1,114.305,30.545\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"1 duplicate household id\(s\): line 3 \(1\) repeats line 2 \(1\)"):
        load_households(db_session, duplicated, crs="wgs84")
    fractional = tmp_path / "frac.csv"
    fractional.write_text("id,lon,lat\n1.5,114.302,30.542\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"invalid household id value\(s\).*'1\.5'"):
        load_households(db_session, fractional, crs="wgs84")


def test_households_with_unknown_building_fail(db_session: Session, active_plan: int, tmp_path: Path) -> None:
    path = tmp_path / "with_building.csv"
    path.write_text("id,lon,lat,building_id\n1,114.302,30.542,999\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"refer to 1 building id\(s\) unknown in district 420106: 999"):
        load_households(db_session, path, crs="wgs84")
    assert count(db_session, "household") == 0


def test_households_without_active_plan_keep_empty_grid(db_session: Session, streets: list[str]) -> None:
    report = load_households(db_session, FIXTURES / "households.csv", crs="wgs84")
    assert report.inserted == 8
    assert "no active plan" in str(report)
    assert db_session.execute(text("SELECT count(grid_id) FROM household")).scalar_one() == 0


@pytest.mark.parametrize(("datum", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_offset_datum_households_land_within_a_metre(
    db_session: Session, active_plan: int, tmp_path: Path, datum: str, forward: Transform
) -> None:
    truth = read_features(FIXTURES / "households.csv", crs="wgs84")
    lon, lat = forward(truth.geometry.x.to_numpy(), truth.geometry.y.to_numpy())
    path = tmp_path / f"households_{datum}.csv"
    rows = [f"{ident},{float(x)!r},{float(y)!r}" for ident, x, y in zip(truth["id"], lon, lat, strict=True)]
    path.write_text("id,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    load_households(db_session, path, crs=datum)
    for ident, point in zip(truth["id"], truth.geometry, strict=True):
        error_m = db_session.execute(
            text(
                "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) "
                "FROM household WHERE id = :id"
            ),
            {"x": point.x, "y": point.y, "id": int(ident)},
        ).scalar_one()
        assert error_m < 1.0
    shifted_m = float(np.hypot(lon[0] - truth.geometry.x.iloc[0], lat[0] - truth.geometry.y.iloc[0])) * 1e5
    assert shifted_m > 400  # the test data really was offset


# --- buildings -------------------------------------------------------------------------


def test_buildings_load_and_reload(db_session: Session, district: str) -> None:
    report = load_buildings(db_session, FIXTURES / "buildings.geojson")
    assert report.inserted == 4
    rows = db_session.execute(
        text(
            "SELECT source, source_id, kind, levels, households, GeometryType(geom) FROM building ORDER BY id"
        )
    ).all()
    assert rows == [
        ("buildings", "1001", "apartments", 18, 240, "POLYGON"),
        ("buildings", "1002", "residential", 6, 36, "POLYGON"),
        ("buildings", "1003", "school", None, 0, "POLYGON"),
        ("buildings", "1004", "yes", 2, 12, "POINT"),
    ]
    ids = db_session.execute(text("SELECT id FROM building ORDER BY id")).scalars().all()
    again = load_buildings(db_session, FIXTURES / "buildings.geojson")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert db_session.execute(text("SELECT id FROM building ORDER BY id")).scalars().all() == ids


def test_building_names_load_and_survive_a_file_without_names(
    db_session: Session, district: str, tmp_path: Path
) -> None:
    named = tmp_path / "named.csv"
    named.write_text("id,lon,lat,楼栋名称\n7,114.3022,30.5421, 3栋 \n8,114.3024,30.5423,\n", encoding="utf-8")
    load_buildings(db_session, named, crs="wgs84", source="register")
    names = "SELECT source_id, name FROM building ORDER BY source_id"
    assert db_session.execute(text(names)).all() == [("7", "3栋"), ("8", None)]
    bare = tmp_path / "bare.csv"
    bare.write_text("id,lon,lat\n7,114.3022,30.5421\n", encoding="utf-8")
    load_buildings(db_session, bare, crs="wgs84", source="register")
    assert db_session.execute(text(names)).all() == [("7", "3栋"), ("8", None)]
    with pytest.raises(LoadError, match=r"bare.csv: no column '名字'.*--name-column"):
        load_buildings(db_session, bare, crs="wgs84", source="register", name_column="名字")


def test_households_can_reference_loaded_buildings(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    load_buildings(db_session, FIXTURES / "buildings.geojson")
    building_id = db_session.execute(text("SELECT id FROM building WHERE source_id = '1001'")).scalar_one()
    path = tmp_path / "in_building.csv"
    path.write_text(f"id,lon,lat,building_id\n1,114.3022,30.5421,{building_id}\n", encoding="utf-8")
    load_households(db_session, path, crs="wgs84")
    stored = db_session.execute(text("SELECT building_id FROM household WHERE id = 1")).scalar_one()
    assert stored == building_id


def test_buildings_need_an_id_column(db_session: Session, district: str, tmp_path: Path) -> None:
    frame = read_features(FIXTURES / "buildings.geojson").drop(columns=["source_row", "osm_way_id"])
    path = tmp_path / "anonymous.geojson"
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(LoadError, match=r"no column 'id' .*pass --id-column"):
        load_buildings(db_session, path)


def test_core_connection_works_and_survives_a_failed_load(connection: Connection) -> None:
    """The CLI passes engine.begin()'s Connection; a failed file must leave it usable."""
    insert_district(connection, "420106", "武昌区", f"SRID=4326;{DISTRICT_WKT}")
    with pytest.raises(LoadError, match=r"feature 2 \(420106002\): invalid geometry"):
        load_boundaries(connection, FIXTURES / "streets_bowtie.geojson", level="street")
    with pytest.raises(LoadError, match=r"2 community code\(s\) are not loaded"):
        load_boundaries(connection, FIXTURES / "grids.geojson", level="grid", plan_name="草案")
    report = load_boundaries(connection, FIXTURES / "streets.geojson", level="street")
    assert report.inserted == 2
    assert count(connection, "street") == 2 and count(connection, "plan") == 0


def test_household_building_ids_must_be_numbers(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    path = tmp_path / "bad_building.csv"
    path.write_text("id,lon,lat,building_id\n1,114.302,30.542,\n2,114.305,30.545,B12\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"1 invalid building_id value\(s\).*line 3 \(2\) 'B12'"):
        load_households(db_session, path, crs="wgs84")

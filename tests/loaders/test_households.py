"""Households as points, as counts per point and as counts per building, against real PostGIS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import LoadError
from gis_api.loaders.households import BUILDING_IDS, PER_ANCHOR, POINT_IDS, load_households
from gis_api.loaders.service import load_buildings
from gis_api.redistrict.inputs import read_inputs
from tests.loaders.conftest import FIXTURES, count


def copy_fixture(name: str, folder: Path) -> Path:
    target = folder / name
    if (FIXTURES / name).is_dir():
        shutil.copytree(FIXTURES / name, target)
    else:
        shutil.copy(FIXTURES / name, target)
    return target


def per_grid(session: Session) -> dict[str, int]:
    rows = session.execute(text("SELECT code, households FROM grid ORDER BY code")).all()
    return {code: households for code, households in rows}


def test_counts_per_point_from_an_excel_register_in_bd09(db_session: Session, active_plan: int) -> None:
    report = load_households(
        db_session, FIXTURES / "registers_bd09.xlsx", crs="bd09", id_column="小区编号", count_column="户数"
    )
    assert (report.inserted, report.updated) == (500, 0)
    ids = db_session.execute(
        text("SELECT min(id), max(id) FROM household WHERE id < :b"), {"b": POINT_IDS + 12 * PER_ANCHOR}
    ).one()
    assert ids == (POINT_IDS + 11 * PER_ANCHOR + 1, POINT_IDS + 11 * PER_ANCHOR + 120)
    assert per_grid(db_session) == {"42010600100101": 120, "42010600100102": 300, "42010600200101": 80}
    places = db_session.execute(text("SELECT count(DISTINCT geom) FROM household")).scalar_one()
    assert places == 3  # every household of a compound stands at the compound's point
    again = load_households(
        db_session, FIXTURES / "registers_bd09.xlsx", crs="bd09", id_column="小区编号", count_column="户数"
    )
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 500)


def test_a_smaller_count_removes_the_surplus(db_session: Session, active_plan: int, tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat,n\n7,114.303,30.543,40\n", encoding="utf-8")
    load_households(db_session, register, crs="wgs84", count_column="n")
    register.write_text("id,lon,lat,n\n7,114.303,30.543,25\n", encoding="utf-8")
    load_households(db_session, register, crs="wgs84", count_column="n")
    assert count(db_session, "household") == 25
    assert per_grid(db_session)["42010600100101"] == 25


def test_absurd_counts_write_nothing(db_session: Session, active_plan: int, tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat,n\n1,114.303,30.543,120\n2,114.305,30.553,278208\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"invalid household count value\(s\).*line 3 \(2\) '278208'"):
        load_households(db_session, register, crs="wgs84", count_column="n")
    assert count(db_session, "household") == 0


def test_explicit_ids_may_not_enter_the_generated_range(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    register = tmp_path / "register.csv"
    register.write_text(f"id,lon,lat\n{POINT_IDS + 5},114.303,30.543\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"invalid household id value\(s\)"):
        load_households(db_session, register, crs="wgs84")


@pytest.mark.parametrize("name", ["buildings.kml", "buildings.kmz", "buildings.gdb"])
def test_building_counts_create_households_inside_the_footprints(
    db_session: Session, active_plan: int, name: str
) -> None:
    id_column = "id" if name.endswith(".gdb") else "编号"
    report = load_buildings(db_session, FIXTURES / name, id_column=id_column, households_column="households")
    assert report.inserted == 2
    assert "200 household(s) placed inside 2 building footprint(s) (200 new, 0 moved)" in str(report)
    inside = db_session.execute(
        text(
            "SELECT b.source_id, b.households, count(h.id), bool_and(ST_Contains(b.geom, h.geom)), "
            "count(DISTINCT h.geom), min(h.id) - :base - b.id * :per "
            "FROM building b JOIN household h ON h.building_id = b.id GROUP BY b.id ORDER BY b.source_id"
        ),
        {"base": BUILDING_IDS, "per": PER_ANCHOR},
    ).all()
    assert inside == [("B1", 120, 120, True, 120, 1), ("B2", 80, 80, True, 80, 1)]
    assert per_grid(db_session) == {"42010600100101": 120, "42010600100102": 0, "42010600200101": 80}
    again = load_buildings(db_session, FIXTURES / name, id_column=id_column, households_column="households")
    assert (again.inserted, again.updated) == (0, 0)
    assert "(0 new, 0 moved)" in str(again)


def test_without_households_column_option_no_households_are_created(
    db_session: Session, active_plan: int
) -> None:
    load_buildings(db_session, FIXTURES / "buildings.geojson")
    assert count(db_session, "household") == 0
    assert db_session.execute(text("SELECT sum(households) FROM building")).scalar_one() == 288


def test_points_with_counts_and_buildings_with_counts_reach_the_optimiser_alike(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat,n\n1,114.3150,30.5449,80\n", encoding="utf-8")
    load_households(db_session, register, crs="wgs84", count_column="n")
    load_buildings(db_session, FIXTURES / "buildings.gdb", households_column="households")
    inputs = read_inputs(db_session.connection(), "420106", "EPSG:32650", pd.DataFrame())
    units = inputs.buildings.set_index("id")["households"].sort_values()
    assert units.tolist() == [80, 80, 120]  # the point's pseudo-building and the two footprints
    assert sum(len(ids) for ids in inputs.household_ids.values()) == 280


def test_outside_rows_fail_the_file_or_are_written_beside_it(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    register = copy_fixture("households_outside.csv", tmp_path)
    with pytest.raises(LoadError, match=r"lie outside district 420106 .* pass --skip-outside"):
        load_households(db_session, register, crs="wgs84")
    assert count(db_session, "household") == 0
    report = load_households(db_session, register, crs="wgs84", skip_outside=True)
    rejected = pd.read_csv(tmp_path / "households_outside.csv.rejected.csv", dtype=str)
    assert report.inserted == count(db_session, "household") > 0
    assert set(rejected.columns) >= {"line", "id", "lng", "latitude", "reason"}
    assert rejected["reason"].str.startswith("outside district 420106").all()
    assert f"written with their reasons to {tmp_path / 'households_outside.csv.rejected.csv'}" in str(report)


def test_invalid_coordinates_are_skipped_with_their_reason(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat\n1,114.303,30.543\n2,,30.55\n3,114.305,30.553\n", encoding="utf-8")
    report = load_households(db_session, register, crs="wgs84", skip_invalid=True)
    assert report.inserted == 2
    rejected = pd.read_csv(tmp_path / "register.csv.rejected.csv", dtype=str, keep_default_na=False)
    assert rejected.columns.tolist() == ["id", "lon", "lat", "line", "reason"]
    assert rejected.values.tolist() == [["2", "", "30.55", "3", "lon is empty, not a number"]]


def test_households_may_not_stand_in_a_park(db_session: Session, active_plan: int, tmp_path: Path) -> None:
    from gis_api.loaders.areas import load_zones

    load_zones(db_session, FIXTURES / "parks.geojson", "park")
    register = tmp_path / "register.csv"
    register.write_text(
        "id,lon,lat\n1,114.3065,30.5465\n2,114.3101,30.5411\n3,114.303,30.543\n", encoding="utf-8"
    )
    with pytest.raises(
        LoadError,
        match=r"1 household location\(s\) lie in water or a park.*line 2 \(1\) inside park '积玉桥公园'",
    ):
        load_households(db_session, register, crs="wgs84")
    report = load_households(db_session, register, crs="wgs84", skip_outside=True)
    assert report.inserted == 2  # the lawn (under 1 ha) is no zone
    rejected = pd.read_csv(tmp_path / "register.csv.rejected.csv", dtype=str)
    assert rejected["reason"].tolist() == ["inside park '积玉桥公园' (park)"]


def test_households_outside_every_grid_are_skipped_on_request(
    db_session: Session, active_plan: int, tmp_path: Path
) -> None:
    db_session.execute(text("DELETE FROM grid WHERE code = '42010600200101'"))
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat,n\n1,114.303,30.543,10\n2,114.315,30.545,5\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"5 household\(s\) lie outside every grid of the active plan"):
        load_households(db_session, register, crs="wgs84", count_column="n")
    report = load_households(db_session, register, crs="wgs84", count_column="n", skip_outside=True)
    assert report.inserted == 10
    rejected = pd.read_csv(tmp_path / "register.csv.rejected.csv", dtype=str)
    assert rejected[["line", "id", "n"]].values.tolist() == [["3", "2", "5"]]
    assert rejected["reason"].iloc[0].startswith("outside every grid of the active plan")


def test_an_excel_file_written_by_pandas_loads(db_session: Session, active_plan: int, tmp_path: Path) -> None:
    book = tmp_path / "户籍.xlsx"
    frame = pd.DataFrame({"编号": ["1", "2"], "经度": ["114.303", "114.315"], "纬度": ["30.543", "30.545"]})
    pyogrio.write_dataframe(frame, book, driver="XLSX")
    assert load_households(db_session, book, crs="wgs84", id_column="编号").inserted == 2

"""`wangge check` finds planted problems and passes a clean district."""

import pytest
from sqlalchemy import Connection, text

from gis_api.errors import NotFoundError
from gis_api.integrity.service import check_plan
from tests import tiny_district


def counts(connection: Connection) -> dict[str, int]:
    return {finding.check: finding.count for finding in check_plan(connection).findings}


def test_clean_district_passes(connection: Connection) -> None:
    tiny_district.build(connection)
    report = check_plan(connection)
    assert report.ok, str(report)
    assert "no problems found" in str(report)


def test_planted_overlap_is_found(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    # stretch the west community's first grid 200 m into its neighbour
    connection.execute(
        text(
            "UPDATE grid SET geom = ST_Multi(ST_Union(geom, "
            "ST_MakeEnvelope(114.30, 30.549, 114.31, 30.551, 4326))) WHERE id = :id"
        ),
        {"id": ids["42010600100101"]},
    )
    found = counts(connection)
    assert found["grid overlaps"] == 1
    assert not check_plan(connection).ok


def test_household_in_wrong_grid_is_found(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    connection.execute(
        text("UPDATE household SET grid_id = :wrong WHERE grid_id = :right"),
        {"wrong": ids["42010600200102"], "right": ids["42010600100101"]},
    )
    report = check_plan(connection)
    finding = next(f for f in report.findings if f.check == "households outside their grid")
    assert finding.count == 1
    assert "FAIL households outside their grid: 1" in str(report)


def test_gap_between_grids_is_found(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    connection.execute(
        text(
            "UPDATE grid SET geom = ST_Multi(ST_Difference(geom, "
            "ST_MakeEnvelope(114.30, 30.545, 114.301, 30.546, 4326))) WHERE id = :id"
        ),
        {"id": ids["42010600100101"]},
    )
    assert counts(connection)["grid gaps (community not covered by its grids)"] == 1


def test_no_active_plan_is_a_clear_error(connection: Connection) -> None:
    with pytest.raises(NotFoundError, match="no district is loaded"):
        check_plan(connection)
    tiny_district.build(connection)
    connection.execute(text("UPDATE plan SET status = 'archived'"))
    with pytest.raises(NotFoundError, match="district 420106 has no active plan"):
        check_plan(connection)


def test_households_sharing_a_point_outside_their_grid_are_information(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    # a register puts three households of one compound at one point in the west street's grid 01,
    # and the plan assigns them to grid 02: no polygon can separate them, so this is information
    connection.execute(
        text(
            "INSERT INTO household (id, residents, grid_id, geom, district_code) SELECT 200 + k, 2, :grid, "
            "ST_SetSRID(ST_MakePoint(114.303, 30.543), 4326), '420106' FROM generate_series(1, 3) k"
        ),
        {"grid": ids["42010600100102"]},
    )
    tiny_district.build_other(connection)
    report = check_plan(connection, district=tiny_district.DISTRICT)
    assert report.ok, str(report)
    info = next(f for f in report.findings if f.check.startswith("grids defined by assignment"))
    assert (info.count, info.severity, info.examples) == (1, "info", ["42010600100102"])
    assert "info grids defined by assignment" in str(report) and "(3 households)" in str(report)
    other = check_plan(connection, district=tiny_district.OTHER)  # the other district has none
    assert other.ok and all(f.count == 0 for f in other.findings), str(other)


def test_a_lone_household_outside_its_grid_still_fails(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    connection.execute(
        text(
            "INSERT INTO household (id, residents, grid_id, geom, district_code) VALUES "
            "(100, 2, :grid, ST_SetSRID(ST_MakePoint(114.303, 30.543), 4326), '420106'), "
            "(101, 2, :grid, ST_SetSRID(ST_MakePoint(114.304, 30.543), 4326), '420106')"
        ),
        {"grid": ids["42010600100102"]},
    )
    report = check_plan(connection)
    assert not report.ok
    assert counts(connection)["households outside their grid"] == 2

"""The SQL lookups (per point, batched) and the district test, against PostGIS."""

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gis_api.locate.sql_lookup import districts_at_sql, locate_batch_sql, locate_point_sql
from tests import tiny_district
from tests.api.app_fixtures import EAST_SOUTH_GRID, WEST_NORTH_GRID


def test_point_query_returns_grid_community_street_and_plan(
    db_session: Session, areas: dict[str, int]
) -> None:
    area = locate_point_sql(db_session, 114.305, 30.555)
    assert area is not None
    assert (area.grid_code, area.community_code, area.street_code) == (
        WEST_NORTH_GRID,
        tiny_district.WEST + "001",
        tiny_district.WEST,
    )
    assert area.street_name == "积玉桥街道" and area.plan_id == areas["plan"]
    assert area.district_code == tiny_district.DISTRICT
    assert locate_point_sql(db_session, 114.4, 30.555) is None


def test_batch_keeps_input_order_and_marks_misses(db_session: Session, areas: dict[str, int]) -> None:
    found = locate_batch_sql(db_session, [114.4, 114.315, 114.305], [30.5, 30.545, 30.555])
    assert [a.grid_code if a else None for a in found] == [None, EAST_SOUTH_GRID, WEST_NORTH_GRID]


def test_district_membership(db_session: Session, connection: Connection, areas: dict[str, int]) -> None:
    tiny_district.build_other(connection)
    found = districts_at_sql(db_session, [114.305, 114.4, 114.335], [30.545, 30.5, 30.545])
    assert found == [tiny_district.DISTRICT, None, tiny_district.OTHER]

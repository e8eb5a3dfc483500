"""The in-memory grid index: lookups, agreement with SQL, rebuilds when the plan changes."""

import numpy as np
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.locate.index import NO_GRID, LocateIndexCache
from gis_api.locate.service import Crs, locate
from gis_api.locate.sql_lookup import locate_batch_sql, locate_point_sql
from tests import tiny_district
from tests.api.app_fixtures import EAST_SOUTH_GRID, WEST_NORTH_GRID, WEST_SOUTH_GRID


def codes(cache: LocateIndexCache, session: Session, lons: list[float], lats: list[float]) -> list:
    index = cache.current(session)
    assert index is not None
    positions = index.lookup(np.array(lons), np.array(lats))
    return [index.areas[p].grid_code if p != NO_GRID else None for p in positions]


def grid_names(cache: LocateIndexCache, session: Session) -> list[str]:
    index = cache.current(session)
    assert index is not None
    return [area.grid_name for area in index.areas]


def test_lookup_finds_each_grid_and_misses_outside(db_session: Session, areas: dict[str, int]) -> None:
    found = codes(
        LocateIndexCache(), db_session, [114.305, 114.305, 114.315, 114.5], [30.545, 30.555, 30.545, 30.5]
    )
    assert found == [WEST_SOUTH_GRID, WEST_NORTH_GRID, EAST_SOUTH_GRID, None]


def test_shared_edge_goes_to_the_lowest_grid_id(db_session: Session, areas: dict[str, int]) -> None:
    assert codes(LocateIndexCache(), db_session, [114.305], [30.55]) == [WEST_SOUTH_GRID]
    from_sql = locate_point_sql(db_session, 114.305, 30.55)
    assert from_sql is not None and from_sql.grid_code == WEST_SOUTH_GRID


TRIANGLE = "SRID=4326;MULTIPOLYGON(((114.3 30.54,114.31 30.54,114.3 30.55,114.3 30.54)))"


def test_point_in_bounding_box_but_outside_polygon_is_a_miss(
    db_session: Session, connection: Connection, areas: dict[str, int]
) -> None:
    connection.execute(
        text("UPDATE grid SET geom = :g WHERE code = :c"), {"g": TRIANGLE, "c": WEST_SOUTH_GRID}
    )
    assert codes(LocateIndexCache(), db_session, [114.302, 114.308], [30.542, 30.548]) == [
        WEST_SOUTH_GRID,
        None,
    ]


def test_memory_and_sql_agree_on_random_points(
    db_session: Session, connection: Connection, areas: dict[str, int]
) -> None:
    connection.execute(
        text("UPDATE grid SET geom = :g WHERE code = :c"), {"g": TRIANGLE, "c": WEST_SOUTH_GRID}
    )
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(114.295, 114.325, 400), rng.uniform(30.535, 30.565, 400)
    from_memory = codes(LocateIndexCache(), db_session, lons.tolist(), lats.tolist())
    from_sql = locate_batch_sql(db_session, lons.tolist(), lats.tolist())
    assert from_memory == [area.grid_code if area else None for area in from_sql]
    assert None in from_memory and WEST_SOUTH_GRID in from_memory


def test_index_is_rebuilt_when_another_plan_becomes_active(
    db_session: Session, connection: Connection, areas: dict[str, int]
) -> None:
    cache = LocateIndexCache(check_interval_s=0)
    first = cache.current(db_session)
    assert first is not None and first.plan_ids == [areas["plan"]]
    assert cache.current(db_session) is first  # unchanged rows: no rebuild
    connection.execute(text("UPDATE plan SET status = 'archived' WHERE id = :p"), {"p": areas["plan"]})
    new_plan = connection.execute(
        text("INSERT INTO plan (name, status, district_code) VALUES ('new', 'active', '420106') RETURNING id")
    ).scalar_one()
    community = connection.execute(
        text(
            "INSERT INTO community (plan_id, code, name, street_code, geom) SELECT :p, code, '新社区', "
            "street_code, geom FROM community WHERE code = :c RETURNING id"
        ),
        {"p": new_plan, "c": tiny_district.WEST + "001"},
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, geom) SELECT :p, :code, '新网格', :c, "
            "geom FROM community WHERE id = :c"
        ),
        {"p": new_plan, "c": community, "code": WEST_SOUTH_GRID},
    )
    rebuilt = cache.current(db_session)
    assert rebuilt is not None and rebuilt.plan_ids == [new_plan]
    assert [area.grid_name for area in rebuilt.areas] == ["新网格"]


def test_renamed_grid_is_picked_up_after_the_check_interval(
    db_session: Session, connection: Connection, areas: dict[str, int]
) -> None:
    cache = LocateIndexCache(check_interval_s=3600)
    cache.current(db_session)
    connection.execute(text("SAVEPOINT rename"))  # a new subtransaction id changes the row version
    connection.execute(text("UPDATE grid SET name = '改名网格' WHERE code = :c"), {"c": WEST_SOUTH_GRID})
    connection.execute(text("RELEASE SAVEPOINT rename"))
    assert "改名网格" not in grid_names(cache, db_session)  # still within the check interval
    cache.check_interval_s = 0
    assert "改名网格" in grid_names(cache, db_session)


def test_falls_back_to_sql_while_the_index_is_being_built(db_session: Session, areas: dict[str, int]) -> None:
    cache = LocateIndexCache()
    with cache._build_lock:  # another thread is building
        located = locate(db_session, cache, np.array([114.315]), np.array([30.545]), Crs.WGS84)
    assert located.method == "sql"
    assert located.areas[0] is not None and located.areas[0].grid_code == EAST_SOUTH_GRID
    assert locate(db_session, cache, np.array([114.315]), np.array([30.545]), Crs.WGS84).method == "memory"


def test_no_active_plan_means_no_index(
    db_session: Session, connection: Connection, areas: dict[str, int]
) -> None:
    connection.execute(text("UPDATE plan SET status = 'archived'"))
    assert LocateIndexCache().current(db_session) is None

"""Migration 0006 on a database that already holds one district's data: backfills, refusals, downgrade."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from tests.tiny_district import box

OLD_SCHEMA_ROWS = [
    "INSERT INTO district VALUES ('420106', '武昌区', :outline)",
    "INSERT INTO street VALUES ('420106001', '积玉桥街道', '420106', :outline)",
    "INSERT INTO plan (id, name, status) VALUES (1, 'old', 'active'), (2, 'draft', 'draft')",
    "SELECT setval('plan_id_seq', 2)",
    "INSERT INTO community (id, plan_id, code, name, street_code, geom) "
    "VALUES (1, 1, '420106001001', '社区', '420106001', :outline)",
    "INSERT INTO grid (id, plan_id, code, name, community_id, geom) "
    "VALUES (1, 1, '42010600100101', '网格', 1, :outline)",
    "INSERT INTO building (id, source, geom) VALUES (1, 'osm', 'SRID=4326;POINT(114.305 30.545)')",
    "INSERT INTO household (id, building_id, grid_id, geom) "
    "VALUES (1, 1, 1, 'SRID=4326;POINT(114.305 30.545)')",
    "INSERT INTO water (name, kind, geom) VALUES ('湖', 'lake', :pond)",
    "INSERT INTO road_node (id, geom) VALUES (1, 'SRID=4326;POINT(114.30 30.55)'), "
    "(2, 'SRID=4326;POINT(114.31 30.55)')",
    "INSERT INTO road_edge VALUES (1, 1, 2, '路', 'primary', false, 950, 40, 85, 85, 85, "
    "'SRID=4326;LINESTRING(114.30 30.55, 114.31 30.55)')",
]


@pytest.fixture
def old_database(cluster: EmbeddedCluster) -> Iterator[Engine]:
    """A database at revision 0005 holding one district's data in the old schema."""
    name = f"wangge_test_0006_{os.getpid()}"
    cluster.drop_database(name)
    engine = create_engine(cluster.create_database(name))
    migrate.upgrade(engine, "0005")
    params = {"outline": box(114.30, 30.54, 114.31, 30.56), "pond": box(114.301, 30.541, 114.302, 30.542)}
    with engine.begin() as connection:
        for statement in OLD_SCHEMA_ROWS:
            connection.execute(text(statement), params)
    yield engine
    engine.dispose()
    cluster.drop_database(name)


def scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def test_upgrade_backfills_one_district_and_downgrade_restores(old_database: Engine) -> None:
    migrate.upgrade(old_database)
    assert scalar(
        old_database, "SELECT city_code || ' ' || metric_crs || ' ' || metric_crs_family FROM district"
    ) == ("4201 EPSG:32650 utm")
    assert scalar(old_database, "SELECT name FROM city WHERE code = '4201'") == "武汉市"
    assert scalar(old_database, "SELECT metric_srid FROM district") == 32650
    for table in ("plan", "household", "building", "water", "road_node", "road_edge"):
        assert scalar(old_database, f"SELECT count(*) FROM {table} WHERE district_code = '420106'") == scalar(
            old_database, f"SELECT count(*) FROM {table}"
        )
    assert scalar(old_database, "SELECT plan_id FROM active_plan WHERE district_code = '420106'") == 1
    assert scalar(old_database, "SELECT count(*) FROM active_grid") == 1
    migrate.downgrade(old_database, "0005")
    assert scalar(old_database, "SELECT count(*) FROM household") == 1
    assert scalar(old_database, "SELECT count(*) FROM plan WHERE status = 'active'") == 1
    assert scalar(old_database, "SELECT to_regclass('city')") is None


def test_upgrade_refuses_a_plan_it_cannot_place(old_database: Engine) -> None:
    with old_database.begin() as connection:
        connection.execute(
            text("INSERT INTO district VALUES ('420111', '洪山区', :g)"),
            {"g": box(114.33, 30.54, 114.35, 30.56)},
        )
    with pytest.raises(DBAPIError, match=r"plan\(s\) 2 cannot be given a district"):
        migrate.upgrade(old_database)
    assert migrate.current_revision(old_database) == "0005"  # nothing half-done


def test_downgrade_refuses_two_active_plans(old_database: Engine) -> None:
    migrate.upgrade(old_database)
    with old_database.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO district (code, name, geom, metric_crs, metric_crs_family) "
                "VALUES ('420111', '洪山区', :g, 'EPSG:4547', 'cgcs2000_gk3')"
            ),
            {"g": box(114.33, 30.54, 114.35, 30.56)},
        )
        connection.execute(
            text("INSERT INTO plan (name, status, district_code) VALUES ('b', 'active', '420111')")
        )
    with pytest.raises(DBAPIError, match="2 districts have an active plan"):
        migrate.downgrade(old_database, "0005")

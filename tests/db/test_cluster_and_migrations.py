"""The embedded cluster and the migrations, against the real server."""

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from tests import tiny_district

TABLES = {
    "district",
    "street",
    "water",
    "park",
    "plan",
    "community",
    "grid",
    "building",
    "household",
    "road_node",
    "road_edge",
    "team_member",
    "incident",
    "city",
    "data_layer",
}


def test_cluster_reuses_running_server(cluster: EmbeddedCluster) -> None:
    first_port = cluster.port()
    assert cluster.ensure_running().endswith(f":{first_port}/wangge")
    assert cluster.is_running()


def test_extensions_enabled(engine) -> None:
    with engine.connect() as connection:
        names = set(connection.execute(text("SELECT extname FROM pg_extension")).scalars())
    assert {"postgis", "pgrouting"} <= names


def test_migrations_up_down_up(cluster: EmbeddedCluster) -> None:
    url = cluster.create_database("wangge_test_migrations", exist_ok=True)
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        migrate.downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) is not None
    finally:
        engine.dispose()
        cluster.drop_database("wangge_test_migrations")


def test_one_active_plan_per_district(connection) -> None:
    tiny_district.build(connection)
    tiny_district.build_other(connection)  # its own active plan: allowed
    active = "SELECT district_code FROM active_plan ORDER BY 1"
    assert list(connection.execute(text(active)).scalars()) == [tiny_district.DISTRICT, tiny_district.OTHER]
    second = "INSERT INTO plan (name, status, district_code) VALUES ('b', 'active', '420106')"
    with pytest.raises(IntegrityError, match="uq_plan_one_active_per_district"):
        connection.execute(text(second))

"""Migration 0002 (app_user, audit_log) goes down and up cleanly."""

from sqlalchemy import create_engine, inspect

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster

AUTH_TABLES = {"app_user", "audit_log"}


def test_users_and_audit_migration_down_and_up(cluster: EmbeddedCluster) -> None:
    name = "wangge_test_auth_migration"
    cluster.drop_database(name)
    engine = create_engine(cluster.create_database(name))
    try:
        migrate.upgrade(engine, "0002")
        assert set(inspect(engine).get_table_names()) >= AUTH_TABLES
        migrate.downgrade(engine, "0001")
        assert not AUTH_TABLES & set(inspect(engine).get_table_names())
        assert "grid" in inspect(engine).get_table_names()
        migrate.upgrade(engine, "0002")
        assert migrate.current_revision(engine) == "0002"
    finally:
        engine.dispose()
        cluster.drop_database(name)

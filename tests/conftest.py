"""Shared fixtures: a throwaway PostGIS database from the embedded cluster, rolled-back sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session

from gis_api.config import Settings, get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster


@pytest.fixture(scope="session")
def cluster() -> EmbeddedCluster:
    """The same embedded cluster users run, started on demand."""
    embedded = EmbeddedCluster(get_settings().var_dir)
    embedded.ensure_running()
    return embedded


@pytest.fixture(scope="session")
def database_url(cluster: EmbeddedCluster) -> Iterator[str]:
    """A fresh database for this test run, migrated to head, dropped afterwards."""
    name = f"wangge_test_{os.getpid()}"
    cluster.drop_database(name)
    url = cluster.create_database(name)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    cluster.drop_database(name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    """An ORM session whose commits become savepoints of the outer, rolled-back transaction."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()

"""Engine and session factory; the FastAPI dependency `SessionDep`."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from gis_api.config import Settings, get_settings
from gis_api.db.cluster import ClusterError, EmbeddedCluster, enable_extensions
from gis_api.db.roles import API_ROLE, READONLY_ROLE, role_url


def _psycopg2(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    return url


def resolve_database_url(settings: Settings) -> str:
    """The owner's connection: the configured server, or the embedded cluster started on demand."""
    if settings.database_url:
        return _psycopg2(settings.database_url)
    return EmbeddedCluster(settings.var_dir).ensure_running()


def api_database_url(settings: Settings) -> str:
    """The API's connection: WANGGE_API_DATABASE_URL, else the owner's database as the API role."""
    if settings.api_database_url:
        return _psycopg2(settings.api_database_url)
    return role_url(resolve_database_url(settings), API_ROLE, settings.var_dir)


def readonly_database_url(settings: Settings) -> str:
    """The read-only (QGIS) connection to the owner's database."""
    return role_url(resolve_database_url(settings), READONLY_ROLE, settings.var_dir)


POOL_SIZE = 20
"""Kept connections per process: at least the requests one API process serves at once, since
every connection beyond the pool is opened and closed per request (a PostgreSQL backend fork)."""


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per URL; pre-ping so a restarted server is reconnected transparently."""
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=20)


def make_engine(settings: Settings, check_extensions: bool = True) -> Engine:
    """Engine for the settings' database, verifying PostGIS and pgRouting are enabled."""
    url = resolve_database_url(settings)
    if check_extensions:
        enable_extensions(url)
    return engine_for(url)


def api_engine(settings: Settings) -> Engine:
    """The pooled engine the web API uses (the API role: no DDL, append-only logs)."""
    return engine_for(api_database_url(settings))


def check_api_connection(settings: Settings) -> None:
    """Fail with one line, before serving, when the API role cannot connect (roles never created)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = api_engine(settings)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM audit_log LIMIT 0"))
    except DBAPIError as error:
        first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise ClusterError(
            f"the API cannot use {engine.url.render_as_string(hide_password=True)}: {first}. "
            "Run `wangge db up` (migrations and grants) and, on an external server, `wangge db roles` "
            "as the owner, or set WANGGE_API_DATABASE_URL."
        ) from error


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for routes that only read and append their audit row: each statement commits on its
    own (the engine's pool, in autocommit), so a read costs no BEGIN and no COMMIT round trip, and
    a statement that writes (the audit row) is durable when it returns (synchronous_commit on), before
    the response leaves. Read committed either way: each statement sees its own snapshot."""
    return sessionmaker(bind=engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session; the app factory stores its sessionmaker on app.state."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_read_session(request: Request) -> Iterator[Session]:
    """Request-scoped autocommit session (read_session_factory) for audited reads."""
    factory: sessionmaker[Session] = request.app.state.read_session_factory
    with factory() as session:
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def default_engine() -> Engine:
    """Engine for the process-wide settings (CLI commands)."""
    return make_engine(get_settings())

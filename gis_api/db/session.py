"""Engine and session factory; the FastAPI dependency `SessionDep`."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from gis_api.config import Settings, get_settings
from gis_api.db.cluster import EmbeddedCluster, enable_extensions


def resolve_database_url(settings: Settings) -> str:
    """The configured server, or the embedded cluster started on demand."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")
        return url
    return EmbeddedCluster(settings.var_dir).ensure_running()


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


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session; the app factory stores its sessionmaker on app.state."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def default_engine() -> Engine:
    """Engine for the process-wide settings (CLI commands)."""
    return make_engine(get_settings())

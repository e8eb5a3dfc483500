"""Alembic environment: the URL comes from the caller (config attribute) or the settings."""

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from gis_api.db.base import Base
from gis_api.db.models import __all__ as _all_models  # noqa: F401  (registers tables)

config = context.config


def run_migrations_online() -> None:
    """Run against a live connection handed over by gis_api.db.migrate, or a fresh engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    from gis_api.config import get_settings
    from gis_api.db.session import resolve_database_url

    engine = create_engine(resolve_database_url(get_settings()), poolclass=NullPool)
    with engine.connect() as live:
        context.configure(connection=live, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

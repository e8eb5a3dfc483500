"""One file, one transaction: the savepoint every loader writes in.

Loaders accept either an ORM Session or a Core Connection (the CLI uses engine.begin()). They
write inside a SAVEPOINT of the caller's transaction: any error rolls the savepoint back and is
raised as LoadError, so nothing from a failed file survives even if the caller commits; on
success the rows are in the caller's transaction and the CALLER COMMITS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_api.errors import LoadError

Database = Session | Connection
"""What loaders write through: the caller's ORM session or Core connection."""


@contextmanager
def one_transaction(db: Database, path: Path) -> Iterator[None]:
    """A savepoint for the file: any error rolls it back and surfaces as LoadError."""
    try:
        with db.begin_nested():
            yield
    except (DBAPIError, psycopg2.Error) as error:
        detail = getattr(error, "orig", None) or error
        raise LoadError(
            f"{path.name}: the database refused the data, nothing was written ({detail})"
        ) from error
    if isinstance(db, Session):
        db.expire_all()  # rows changed behind the ORM's back


def dbapi_cursor(db: Database) -> Any:
    """The psycopg2 cursor of the caller's connection (same transaction), for COPY."""
    connection = db.connection() if isinstance(db, Session) else db
    return connection.connection.cursor()

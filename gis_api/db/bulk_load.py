"""Bulk loads into empty tables: drop their secondary indexes and outgoing foreign keys first and
build them again afterwards, in the caller's transaction.

Maintaining a GiST index row by row and checking two foreign keys per row make a COPY of millions
of households several times slower than the COPY itself; building the index once over sorted data
and validating each foreign key with one join are fast. Primary keys and unique constraints stay,
so duplicates still fail at once. Everything runs inside the caller's transaction: on an error
the indexes come back with the rollback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, text

log = logging.getLogger(__name__)

INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""
FOREIGN_KEYS_SQL = """
SELECT c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.conrelid = CAST(:table AS regclass) AND c.contype = 'f'
ORDER BY 1
"""


@dataclass(frozen=True)
class Deferred:
    """What was dropped from one table: (name, definition) of indexes and foreign keys."""

    table: str
    indexes: list[tuple[str, str]]
    foreign_keys: list[tuple[str, str]]


def drop_for_bulk_load(connection: Connection, table: str) -> Deferred:
    """Drop the table's secondary indexes and foreign keys; return how to build them again."""
    params = {"table": table}
    indexes = [(str(n), str(d)) for n, d in connection.execute(text(INDEXES_SQL), params)]
    foreign_keys = [(str(n), str(d)) for n, d in connection.execute(text(FOREIGN_KEYS_SQL), params)]
    for name, _ in foreign_keys:
        connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        connection.execute(text(f"DROP INDEX {name}"))
    return Deferred(table, indexes, foreign_keys)


BUILD_MEMORY = "512MB"
"""maintenance_work_mem while building: sorted GiST builds of millions of points fit in memory."""


def restore_after_bulk_load(connection: Connection, deferred: Deferred) -> None:
    """Build the dropped indexes and re-add (and so validate) the foreign keys."""
    connection.execute(text(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"))
    for name, definition in deferred.indexes:
        started = time.perf_counter()
        connection.execute(text(definition))
        log.info("built index %s in %.1f s", name, time.perf_counter() - started)
    for name, definition in deferred.foreign_keys:
        connection.execute(text(f'ALTER TABLE {deferred.table} ADD CONSTRAINT "{name}" {definition}'))


@contextmanager
def indexes_deferred(connection: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Within the block the tables have no secondary indexes or outgoing foreign keys; they are
    built again (in the same transaction) when the block ends without an error."""
    dropped = [drop_for_bulk_load(connection, table) for table in tables]
    yield
    for deferred in dropped:
        restore_after_bulk_load(connection, deferred)

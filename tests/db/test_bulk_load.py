"""Bulk loads defer a table's secondary indexes and foreign keys and build them again."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from gis_api.db.bulk_load import drop_for_bulk_load, indexes_deferred, restore_after_bulk_load
from tests import tiny_district

DEFINITIONS_SQL = """
SELECT indexdef FROM pg_indexes WHERE tablename = :t
UNION ALL
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)
ORDER BY 1
"""


def definitions(connection: Connection, table: str) -> list[str]:
    return list(connection.execute(text(DEFINITIONS_SQL), {"t": table}).scalars())


def test_indexes_and_foreign_keys_come_back_as_they_were(connection: Connection) -> None:
    before = definitions(connection, "household")
    with indexes_deferred(connection, ["household"]):
        during = definitions(connection, "household")
        assert not any("gist" in d or "FOREIGN KEY" in d for d in during)
        assert any("PRIMARY KEY" in d for d in during)  # duplicates still fail at once
    assert definitions(connection, "household") == before


def test_a_dangling_reference_fails_when_the_foreign_key_returns(connection: Connection) -> None:
    tiny_district.insert_district(connection, "420106", "武昌区", tiny_district.box(114.3, 30.5, 114.4, 30.6))
    deferred = drop_for_bulk_load(connection, "household")
    connection.execute(
        text(
            "INSERT INTO household (id, residents, grid_id, geom, district_code) "
            "VALUES (1, 1, 999999, 'SRID=4326;POINT(114.35 30.55)', '420106')"
        )
    )
    with pytest.raises(IntegrityError, match="grid"):
        restore_after_bulk_load(connection, deferred)

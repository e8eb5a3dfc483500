"""building_households (migration 0014) stays equal to a fresh count of the household rows after
loads, moves between buildings, residents changes, deletes, building deletes and truncation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.loaders.households import load_households
from gis_api.loaders.service import load_buildings
from tests.loaders.conftest import FIXTURES

STORED = "SELECT building_id, district_code, households, residents FROM building_households ORDER BY 1, 2"
RECOUNT = """
SELECT building_id, district_code, count(*)::int, sum(residents)::int FROM household
WHERE building_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
"""


def stored(session: Session) -> list[tuple]:
    return [tuple(row) for row in session.execute(text(STORED))]


def assert_counts_match(session: Session) -> list[tuple]:
    rows = stored(session)
    assert rows == [tuple(row) for row in session.execute(text(RECOUNT))]
    return rows


def test_counts_follow_loads_moves_and_deletes(db_session: Session, active_plan: int, tmp_path: Path) -> None:
    run = db_session.execute
    load_buildings(db_session, FIXTURES / "buildings.gdb", households_column="households")
    rows = assert_counts_match(db_session)
    assert [(code, n) for _, code, n, _ in rows] == [("420106", 120), ("420106", 80)]
    first, second = (row[0] for row in rows)
    # a register point inside the first footprint: its households are spread inside that building
    register = tmp_path / "register.csv"
    lon, lat = run(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM building "
                        "WHERE id = :b) t"), {"b": first}).one()  # fmt: skip
    register.write_text(f"id,lon,lat,n\n5,{lon},{lat},30\n", encoding="utf-8")
    load_households(db_session, register, crs="wgs84", count_column="n")
    assert [row[2] for row in assert_counts_match(db_session)] == [150, 80]
    run(text("UPDATE household SET building_id = :s WHERE id IN (SELECT id FROM household "
             "WHERE building_id = :f ORDER BY id LIMIT 10)"), {"s": second, "f": first})  # fmt: skip
    run(text("UPDATE household SET residents = residents + 1 WHERE building_id = :s"), {"s": second})
    run(text("UPDATE household SET grid_id = NULL"))  # a reassignment that moves nobody between buildings
    assert [row[2] for row in assert_counts_match(db_session)] == [140, 90]
    run(text("DELETE FROM household WHERE building_id = :s"), {"s": second})
    assert [row[0] for row in assert_counts_match(db_session)] == [first]
    run(text("DELETE FROM building WHERE id = :f"), {"f": first})  # its households lose their building
    assert assert_counts_match(db_session) == []
    load_buildings(db_session, FIXTURES / "buildings.gdb", households_column="households")
    assert len(assert_counts_match(db_session)) == 2
    run(text("TRUNCATE household CASCADE"))
    assert stored(db_session) == []

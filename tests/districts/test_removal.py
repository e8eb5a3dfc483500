"""Removing one district's rows leaves every other district's rows as they were."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from gis_api.districts.removal import check_ids_free, remove_district_rows
from gis_api.errors import ConflictError
from tests import tiny_district

COUNTED = {
    "district": "SELECT count(*) FROM district WHERE code = :d",
    "street": "SELECT count(*) FROM street WHERE district_code = :d",
    "plan": "SELECT count(*) FROM plan WHERE district_code = :d",
    "grid": "SELECT count(*) FROM grid g JOIN plan p ON p.id = g.plan_id WHERE p.district_code = :d",
    "household": "SELECT count(*) FROM household WHERE district_code = :d",
    "team_member": (
        "SELECT count(*) FROM team_member m JOIN grid g ON g.id = m.home_grid_id "
        "JOIN plan p ON p.id = g.plan_id WHERE p.district_code = :d"
    ),
    "incident": "SELECT count(*) FROM incident WHERE grid_code LIKE :d || '%'",
    "case_event": (
        "SELECT count(*) FROM case_event e JOIN incident i ON i.id = e.case_id "
        "WHERE i.grid_code LIKE :d || '%'"
    ),
    "case_kpi": "SELECT count(*) FROM case_kpi WHERE grid_code LIKE :d || '%'",
    "visit": (
        "SELECT count(*) FROM visit v JOIN household h ON h.id = v.household_id WHERE h.district_code = :d"
    ),
    "position_ping": (
        "SELECT count(*) FROM position_ping p JOIN team_member m ON m.id = p.member_id "
        "JOIN grid g ON g.id = m.home_grid_id JOIN plan l ON l.id = g.plan_id WHERE l.district_code = :d"
    ),
    "grid_households": (
        "SELECT coalesce(sum(n.households), 0) FROM grid_households n JOIN grid g ON g.id = n.grid_id "
        "JOIN plan p ON p.id = g.plan_id WHERE p.district_code = :d"
    ),
}


def counts(connection: Connection, district: str) -> dict[str, int]:
    run = connection.execute
    return {name: int(run(text(sql), {"d": district}).scalar_one()) for name, sql in COUNTED.items()}


def populate(connection: Connection, grid_ids: dict[str, int], grid_code: str, household: int) -> None:
    """A grid worker with a visit and a ping, and a case with two events, in one grid."""
    run = connection.execute
    member = run(
        text(
            "INSERT INTO team_member (name, role, home_grid_id, status) "
            "VALUES ('网格员', 'grid_worker', :g, 'available') RETURNING id"
        ),
        {"g": grid_ids[grid_code]},
    ).scalar_one()
    run(
        text("INSERT INTO visit (member_id, household_id, grid_id, visited_at) VALUES (:m, :h, :g, now())"),
        {"m": member, "h": household, "g": grid_ids[grid_code]},
    )
    run(
        text(
            "INSERT INTO position_ping (member_id, device_time, geom) "
            "VALUES (:m, now(), ST_SetSRID(ST_MakePoint(114.3, 30.55), 4326))"
        ),
        {"m": member},
    )
    case = run(
        text(
            "INSERT INTO incident (category_code, categories_version, grid_id, grid_code, community_code, "
            "street_code, geom, source) VALUES ('E0201', 'v', :g, :c, left(:c, 12), left(:c, 9), "
            "ST_SetSRID(ST_MakePoint(114.3, 30.55), 4326), 'api') RETURNING id"
        ),
        {"g": grid_ids[grid_code], "c": grid_code},
    ).scalar_one()
    for action, state in (("report", "reported"), ("accept", "accepted")):
        run(
            text(
                "INSERT INTO case_event (case_id, actor, role, action, to_state) "
                "VALUES (:c, 'op', 'district_operator', :a, :s)"
            ),
            {"c": case, "a": action, "s": state},
        )


def test_removal_takes_one_district_and_nothing_else(connection: Connection) -> None:
    mine = tiny_district.build(connection)
    other = tiny_district.build_other(connection)
    populate(connection, mine, "42010600100101", 2)
    populate(connection, other, "42011100100101", 102)
    kept = counts(connection, tiny_district.OTHER)
    assert all(kept.values())  # every kind of row exists in the other district
    assert all(counts(connection, tiny_district.DISTRICT).values())
    removed = remove_district_rows(connection, tiny_district.DISTRICT)
    assert removed.rows["household"] == 4 and removed.rows["case_event"] == 2
    assert counts(connection, tiny_district.OTHER) == kept
    assert not any(counts(connection, tiny_district.DISTRICT).values())
    with pytest.raises(DBAPIError, match="append-only"):  # the event log's guard is back on
        connection.execute(text("DELETE FROM case_event"))


def test_taken_ids_are_named(connection: Connection) -> None:
    tiny_district.build(connection)
    tiny_district.build_other(connection)  # households 102..105
    check_ids_free(connection, "household", 106, 500, "420106")
    with pytest.raises(ConflictError, match=r"household ids 1-200 are taken by district\(s\) 420111"):
        check_ids_free(connection, "household", 1, 200, "420106")

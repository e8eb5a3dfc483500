"""Remove one district's rows, and only its rows, from a database that holds others.

`wangge demo --reload` rebuilds the Wuchang demo; on a deployment that also holds the city or a
real district it must not touch them (it used to TRUNCATE every table). The rows go in foreign-key
order, each table by its district or area code, in the caller's transaction: a failure later in
the reload rolls the removal back with it. The district's case history goes with its cases (the
event log's append-only trigger is lifted for this transaction only; the owner alone may do it).
Accounts and the audit log stay: they are records of people, not of the district's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from gis_api.errors import ConflictError

CASES = "SELECT id FROM incident WHERE grid_code LIKE :area"
GRIDS = "SELECT g.id FROM grid g JOIN plan p ON p.id = g.plan_id WHERE p.district_code = :d"
MEMBERS = f"SELECT id FROM team_member WHERE home_grid_id IN ({GRIDS})"
HOUSEHOLDS = "SELECT id FROM household WHERE district_code = :d"
REMOVALS: tuple[tuple[str, str], ...] = (
    ("notification_outbox", f"DELETE FROM notification_outbox WHERE case_id IN ({CASES})"),
    ("case_contact", f"DELETE FROM case_contact WHERE case_id IN ({CASES})"),
    ("case_event", f"DELETE FROM case_event WHERE case_id IN ({CASES})"),
    ("incident", "DELETE FROM incident WHERE grid_code LIKE :area"),
    ("live_event", "DELETE FROM live_event WHERE grid_code LIKE :area"),
    ("survey_response", "DELETE FROM survey_response WHERE grid_code LIKE :area"),
    ("visit", f"DELETE FROM visit WHERE member_id IN ({MEMBERS}) OR household_id IN ({HOUSEHOLDS})"),
    ("position_ping", f"DELETE FROM position_ping WHERE member_id IN ({MEMBERS})"),
    ("team_member", f"DELETE FROM team_member WHERE id IN ({MEMBERS})"),
    (
        "plan_assignment",
        "DELETE FROM plan_assignment WHERE plan_id IN (SELECT id FROM plan WHERE district_code = :d)",
    ),
    ("household", "DELETE FROM household WHERE district_code = :d"),
    ("plan", "DELETE FROM plan WHERE district_code = :d"),  # its communities and grids cascade
    ("building", "DELETE FROM building WHERE district_code = :d"),
    ("water", "DELETE FROM water WHERE district_code = :d"),
    ("park", "DELETE FROM park WHERE district_code = :d"),
    ("road_edge", "DELETE FROM road_edge WHERE district_code = :d"),
    ("road_node", "DELETE FROM road_node WHERE district_code = :d"),
    ("street", "DELETE FROM street WHERE district_code = :d"),
    ("data_layer", "DELETE FROM data_layer WHERE district_code = :d"),
    ("district", "DELETE FROM district WHERE code = :d"),
)
"""In foreign-key order: what refers to a row goes before it."""
APPEND_ONLY_TRIGGER = "tr_case_event_append_only"
OTHER_DISTRICTS_SQL = "SELECT code FROM district WHERE code <> :d ORDER BY code"


@dataclass(frozen=True)
class Removed:
    """Rows removed per table (tables with none are left out)."""

    rows: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{table} {count:,}" for table, count in self.rows.items()) or "nothing"


def other_districts(connection: Connection, code: str) -> list[str]:
    """The codes of the districts other than `code`."""
    return [str(c) for c in connection.execute(text(OTHER_DISTRICTS_SQL), {"d": code}).scalars()]


def remove_district_rows(connection: Connection, code: str) -> Removed:
    """Delete the district `code` and everything of it (its cases, team, households, plans, layers),
    leaving every other district as it was; in the caller's transaction."""
    params = {"d": code, "area": f"{code}%"}
    removed: dict[str, int] = {}
    connection.execute(text(f"ALTER TABLE case_event DISABLE TRIGGER {APPEND_ONLY_TRIGGER}"))
    for table, statement in REMOVALS:
        count = connection.execute(text(statement), params).rowcount
        if count:
            removed[table] = count
        if table == "case_event":
            connection.execute(text(f"ALTER TABLE case_event ENABLE TRIGGER {APPEND_ONLY_TRIGGER}"))
    return Removed(removed)


def check_ids_free(connection: Connection, table: str, low: int, high: int, code: str) -> None:
    """ConflictError naming the districts whose rows of `table` use ids in [low, high] (the demo
    stores its generated ids as they are)."""
    found = connection.execute(
        text(
            f"SELECT DISTINCT district_code FROM {table} WHERE id BETWEEN :low AND :high "
            "AND district_code <> :d ORDER BY 1 LIMIT 5"
        ),
        {"low": low, "high": high, "d": code},
    ).scalars()
    holders = [str(holder) for holder in found]
    if holders:
        raise ConflictError(
            f"cannot reload district {code}: its {table} ids {low}-{high} are taken by district(s) "
            f"{', '.join(holders)} (loaded after it); reload into a database without them"
        )

"""building_households under least privilege: the API role writes households (a plan activation
moves them between grids) without any write grant on the counts, because the triggers that keep
them run as the owner (SECURITY DEFINER); the API role itself can only read the counts."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_api.db.roles import API_ROLE, quote
from tests.api.app_fixtures import app, areas, auth_headers, client, users
from tests.plans.test_router import plan_ids
from tests.tiles.test_building_counts import buildings

__all__ = ["app", "areas", "auth_headers", "buildings", "client", "plan_ids", "users"]
Headers = Callable[[str], dict[str, str]]

STORED = "SELECT building_id, district_code, households, residents FROM building_households ORDER BY 1, 2"
RECOUNT = """
SELECT building_id, district_code, count(*)::int, sum(residents)::int FROM household
WHERE building_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
"""


def stored(connection: Connection) -> list[tuple]:
    return [tuple(row) for row in connection.execute(text(STORED))]


def recount(connection: Connection) -> list[tuple]:
    return [tuple(row) for row in connection.execute(text(RECOUNT))]


def grids(connection: Connection) -> dict[int, int]:
    return dict(connection.execute(text("SELECT id, grid_id FROM household")).all())  # type: ignore[arg-type]


# `buildings` comes first: the draft's grids repeat the active plan's codes.
def test_activation_as_the_api_role_keeps_the_counts(
    buildings: None,
    plan_ids: tuple[int, int],
    client: TestClient,
    auth_headers: Headers,
    connection: Connection,
) -> None:
    before, grids_before = stored(connection), grids(connection)
    assert [(b, n) for b, _, n, _ in before] == [(501, 1), (502, 12)]
    response = client.post(f"/plans/{plan_ids[1]}/activate", headers=auth_headers("planner"))
    assert response.status_code == 200, response.text
    assert grids(connection) != grids_before  # the API role did update household rows
    assert stored(connection) == recount(connection) == before


def test_activation_would_fail_if_the_triggers_ran_as_the_api_role(
    buildings: None,
    plan_ids: tuple[int, int],
    client: TestClient,
    auth_headers: Headers,
    connection: Connection,
) -> None:
    """The control: the same request with the update trigger as SECURITY INVOKER (rolled back with
    the test) is refused, so the test above passes because of SECURITY DEFINER, not a stray grant."""
    connection.execute(text("ALTER FUNCTION building_households_update() SECURITY INVOKER"))
    headers = auth_headers("planner")
    with pytest.raises(DBAPIError, match="permission denied for table building_households"):
        client.post(f"/plans/{plan_ids[1]}/activate", headers=headers)


def test_a_move_between_buildings_by_the_api_role_updates_the_counts(
    buildings: None, connection: Connection, db_session: Session
) -> None:
    """The API may only change grid_id; given UPDATE (building_id) for this test, its move between
    buildings reaches building_households through the trigger, with no grant on that table."""
    db_session.commit()
    connection.execute(text(f"GRANT UPDATE (building_id) ON household TO {quote(API_ROLE)}"))
    connection.execute(text(f"SET ROLE {quote(API_ROLE)}"))
    try:
        connection.execute(text("UPDATE household SET building_id = 501 WHERE id BETWEEN 9100 AND 9104"))
        assert connection.execute(text("SELECT current_user")).scalar_one() == API_ROLE
    finally:
        connection.execute(text("RESET ROLE"))
    assert [(b, n) for b, _, n, _ in stored(connection)] == [(501, 6), (502, 7)]
    assert stored(connection) == recount(connection)


def test_nobody_but_the_owner_may_call_the_trigger_functions(connection: Connection) -> None:
    """EXECUTE is checked when a trigger is created, not when it fires: revoked from everyone."""
    callable_by_api = connection.execute(
        text(
            "SELECT p.proname, p.prosecdef, p.proconfig, has_function_privilege(:r, p.oid, 'EXECUTE') "
            "FROM pg_proc p WHERE p.proname LIKE 'building_households_%' ORDER BY 1"
        ),
        {"r": API_ROLE},
    ).all()
    fixed_path = ["search_path=pg_catalog, pg_temp"]
    kinds = ("delete", "insert", "truncate", "update")
    assert [tuple(row) for row in callable_by_api] == [
        (f"building_households_{kind}", True, fixed_path, False) for kind in kinds
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO building_households VALUES (1, '420106', 1, 1)",
        "UPDATE building_households SET households = households + 1",
        "DELETE FROM building_households",
        "TRUNCATE building_households",
    ],
)
def test_the_api_role_only_reads_the_counts(buildings: None, connection: Connection, statement: str) -> None:
    connection.execute(text(f"SET ROLE {quote(API_ROLE)}"))
    try:
        assert connection.execute(text("SELECT count(*) FROM building_households")).scalar_one() == 2
        refused = pytest.raises(DBAPIError, match="permission denied for table building_households")
        with refused, connection.begin_nested():
            connection.execute(text(statement))
    finally:
        connection.execute(text("RESET ROLE"))

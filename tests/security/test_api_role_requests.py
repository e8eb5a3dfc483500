"""The HTTP tests run every request as the API role (tests.api.app_fixtures.as_api_role), so a grant
the API lacks fails in CI, not first on a deployed server. Here: the switch itself, and for each
main flow (auth with its lockout and refresh tokens, intake, workflow, dispatch, photos, tiles,
locate, Open311 with its channel key, rate limit and notification, districts, residents' surveys)
proof that taking away the one privilege it needs makes the request fail with PostgreSQL's
permission error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_api.db.roles import API_ROLE
from tests.api.app_fixtures import PASSWORD, as_api_role
from tests.cases.fixtures import GRID_SW, INCIDENT
from tests.open311.test_georeport import BASE, FORM
from tests.security.api_world import Api
from tests.tiles.mvt import tile_of

WHOLE = tile_of(114.31, 30.55, 13)


def current_user(connection: Connection) -> str:
    return str(connection.execute(text("SELECT current_user")).scalar_one())


def test_requests_run_as_the_api_role_and_fixtures_as_the_owner(
    connection: Connection, db_session: Session
) -> None:
    owner = current_user(connection)
    assert owner != API_ROLE
    with as_api_role(connection, db_session) as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == API_ROLE
        with session.begin_nested() as savepoint:  # a route's rolled-back savepoint keeps the role
            session.execute(text("SELECT 1"))
            savepoint.rollback()
        assert session.execute(text("SELECT current_user")).scalar_one() == API_ROLE
        with pytest.raises(DBAPIError, match="permission denied for table alembic_version"):
            session.execute(text("SELECT * FROM alembic_version"))
    assert current_user(connection) == owner  # even after the failed statement


def login(api: Api) -> None:
    api.headers("admin")


def registered(api: Api) -> int:
    return api.registered()


def refresh_token(api: Api) -> str:
    """A fresh login's refresh token (the phone keeps it to renew the session)."""
    response = api.client.post("/auth/token", data={"username": "west_op", "password": PASSWORD})
    return str(response.json()["refresh_token"])


PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(120, 160))


def survey_token(api: Api) -> str:
    """The survey link of the one household in the south-west grid, as its operator prints it."""
    [item] = api.as_("west_op").get(f"/assessment/survey-links?grid={GRID_SW}").json()["items"]
    return str(item["url"]).split("/survey?t=", 1)[1]


# flow -> (set-up before the privilege is taken away, the privilege, the request, the relation named)
Setup = Callable[[Api], Any]
Request = Callable[[Api, Any], Any]
FLOWS: dict[str, tuple[Setup, str, Request, str]] = {
    "auth": (
        lambda api: None,
        "SELECT ON app_user",
        lambda api, _: api.headers("west_op"),
        "app_user",
    ),
    "lockout": (  # a wrong password is counted, shared by every API process
        lambda api: None,
        "INSERT ON login_failure",
        lambda api, _: api.client.post("/auth/token", data={"username": "west_op", "password": "wrong!"}),
        "login_failure",
    ),
    "refresh": (
        refresh_token,
        "UPDATE ON refresh_token",
        lambda api, token: api.client.post("/auth/refresh", data={"refresh_token": token}),
        "refresh_token",
    ),
    "photo": (  # who uploaded a photo decides who may read it
        login,
        "INSERT ON media_upload",
        lambda api, _: api.post("/media", files={"file": ("p.png", PHOTO, "image/png")}),
        "media_upload",
    ),
    "intake": (login, "INSERT ON incident", lambda api, _: api.report(), "incident"),
    "workflow": (
        lambda api: api.report().json()["id"],
        "INSERT ON case_event",
        lambda api, case: api.post(f"/cases/{case}/actions/accept", {}),
        "case_event",
    ),
    "dispatch": (
        registered,
        "UPDATE ON team_member",
        lambda api, case: api.post(f"/cases/{case}/dispatch", {}),
        "team_member",
    ),
    "tiles": (
        login,
        "SELECT ON active_plan",
        lambda api, _: api.get("/tiles/grids/{}/{}/{}.mvt".format(*WHOLE)),
        "active_plan",
    ),
    "locate": (
        login,
        "SELECT ON active_plan",
        lambda api, _: api.get(f"/locate?lon={INCIDENT[0]}&lat={INCIDENT[1]}"),
        "active_plan",
    ),
    "open311": (
        lambda api: None,
        "INSERT ON incident",
        lambda api, _: api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM)),
        "incident",
    ),
    "open311 key": (
        lambda api: None,
        "SELECT ON api_key",
        lambda api, _: api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM)),
        "api_key",
    ),
    "open311 rate limit": (
        lambda api: None,
        "INSERT ON rate_bucket",
        lambda api, _: api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM)),
        "rate_bucket",
    ),
    "notify": (  # a resident's report queues its notification in the same transaction
        lambda api: None,
        "INSERT ON notification_outbox",
        lambda api, _: api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM)),
        "notification_outbox",
    ),
    "districts": (login, "SELECT ON data_layer", lambda api, _: api.get("/districts"), "data_layer"),
    "survey": (
        survey_token,
        "INSERT ON survey_response",
        lambda api, token: api.client.post(
            f"/residents/surveys/{token}", json={"familiarity": 5, "trust": 4, "satisfaction": 3}
        ),
        "survey_response",
    ),
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_each_flow_fails_without_its_grant(api: Api, connection: Connection, flow: str) -> None:
    setup, privilege, request, relation = FLOWS[flow]
    prepared = setup(api)
    connection.execute(text(f"REVOKE {privilege} FROM {API_ROLE}"))  # rolled back with the test
    with pytest.raises(DBAPIError, match=f"permission denied for (table|view) {relation}"):
        request(api, prepared)

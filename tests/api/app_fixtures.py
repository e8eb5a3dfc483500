"""API fixtures shared by tests/api, tests/auth and tests/locate: app, client, areas, users.

The app's sessions are the test's rolled-back `db_session`, so every request sees the fixture
rows and nothing survives the test. Every request runs as the API role (`SET ROLE wangge_api`),
with exactly the privileges `wangge serve` has, so a grant the API lacks fails here; fixtures and
assertions between requests run as the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.app import create_app
from gis_api.auth.service import create_user
from gis_api.config import Settings
from gis_api.db.roles import API_ROLE, quote
from gis_api.db.session import get_read_session, get_session
from tests import tiny_district

PASSWORD = "correct horse battery"
WEST_SOUTH_GRID = tiny_district.WEST + "00101"
WEST_NORTH_GRID = tiny_district.WEST + "00102"
EAST_SOUTH_GRID = tiny_district.EAST + "00101"
# username -> (role, scope code)
USERS = {
    "admin": ("admin", tiny_district.DISTRICT),
    "west_op": ("street_operator", tiny_district.WEST),
    "east_op": ("street_operator", tiny_district.EAST),
    "west_community_op": ("community_operator", tiny_district.WEST + "001"),
    "west_worker": ("grid_worker", WEST_SOUTH_GRID),
    "planner": ("planner", tiny_district.DISTRICT),
}


@pytest.fixture
def areas(connection: Connection) -> dict[str, int]:
    """The tiny district (2 streets, 2 communities, 4 grids, 4 households) in the test transaction."""
    return tiny_district.build(connection)


@contextmanager
def as_api_role(connection: Connection, session: Session) -> Iterator[Session]:
    """One request's session: the rows the test has so far are kept (its savepoint released), the
    role is switched at the level of the outer transaction (no savepoint rollback inside the request
    can undo it), and at the end, as the real session's close does, uncommitted work is discarded
    and the owner's role comes back."""
    if session.in_transaction():
        session.commit()
    connection.execute(text(f"SET ROLE {quote(API_ROLE)}"))
    try:
        yield session
    finally:
        session.rollback()
        connection.execute(text("RESET ROLE"))


@pytest.fixture
def app(settings: Settings, connection: Connection, db_session: Session) -> FastAPI:
    """The real application whose requests all use the test's rolled-back session as the API role."""
    application = create_app(settings)

    def test_session() -> Iterator[Session]:
        with as_api_role(connection, db_session) as session:
            yield session

    application.dependency_overrides[get_session] = test_session
    application.dependency_overrides[get_read_session] = test_session  # autocommit in service
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def users(areas: dict[str, int], db_session: Session) -> dict[str, tuple[str, str]]:
    """One account per role and scope of USERS, all with PASSWORD."""
    for username, (role, scope_code) in USERS.items():
        create_user(db_session, username, PASSWORD, role, scope_code)
    return USERS


@pytest.fixture
def auth_headers(client: TestClient, users: dict[str, tuple[str, str]]) -> Callable[[str], dict[str, str]]:
    """Log in through POST /auth/token and return the Authorization header for a user."""
    cache: dict[str, dict[str, str]] = {}

    def headers_for(username: str) -> dict[str, str]:
        if username not in cache:
            response = client.post("/auth/token", data={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            cache[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return cache[username]

    return headers_for

"""API fixtures over the dispatch world: tiny district, road ladder, team members, one user per role.

Reuses tests.api.app_fixtures (app, client, users, auth_headers) and replaces its `areas` with the
case world, links the grid workers' accounts to their team members and preloads the ladder graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user
from gis_api.open311.keys import add_key
from gis_api.routing.engine import RoadGraph
from tests import tiny_district
from tests.api.app_fixtures import PASSWORD, app, auth_headers, client, users
from tests.cases import fixtures
from tests.cases.fixtures import GRID_NW, INCIDENT, World

__all__ = ["INCIDENT", "Api", "api", "app", "areas", "auth_headers", "client", "users", "world"]

NEIGHBOUR_WORKER = "north_worker"
EAST_INCIDENT = (114.315, 30.545)


@pytest.fixture
def world(connection: Connection) -> World:
    return fixtures.build(connection)


@pytest.fixture
def areas(world: World) -> dict[str, int]:
    """Overrides app_fixtures.areas: the case world includes the tiny district."""
    return world.grid_ids


def link(session: Session, username: str, member_id: int) -> None:
    session.execute(
        text("UPDATE app_user SET team_member_id = :m WHERE username = :u"), {"m": member_id, "u": username}
    )


class Api:
    """A logged-in client: api.as_("west_op").post(...) with JSON and the right header."""

    def __init__(
        self,
        client: TestClient,
        headers: Callable[[str], dict[str, str]],
        world: World,
        open311_key: str = "",
    ) -> None:
        self.client, self.headers, self.world = client, headers, world
        self.open311_key = open311_key
        self.user = "admin"

    def as_(self, username: str) -> Api:
        other = Api(self.client, self.headers, self.world, self.open311_key)
        other.user = username
        return other

    def keyed(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Open311 POST fields with the test channel's api_key."""
        return {**fields, "api_key": self.open311_key}

    def get(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.get(url, headers={**self.headers(self.user), **(headers or {})}, **kwargs)

    def post(self, url: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        merged = {**self.headers(self.user), **(headers or {})}
        return self.client.post(url, json=json, headers=merged, **kwargs)

    def report(self, category: str = "E0201", where: tuple[float, float] = INCIDENT, **extra: Any) -> Any:
        body = {"category_code": category, "lon": where[0], "lat": where[1], **extra}
        return self.post("/cases", body)

    def registered(self, category: str = "E0201", where: tuple[float, float] = INCIDENT) -> int:
        """A case taken through accept and register by the admin; returns its id."""
        response = self.as_("admin").report(category, where)
        assert response.status_code == 201, response.text
        case_id = int(response.json()["id"])
        for action in ("accept", "register"):
            moved = self.as_("admin").post(f"/cases/{case_id}/actions/{action}", {})
            assert moved.status_code == 200, moved.text
        return case_id


@pytest.fixture
def api(
    app: FastAPI,
    client: TestClient,
    users: dict[str, tuple[str, str]],
    auth_headers: Callable[[str], dict[str, str]],
    world: World,
    db_session: Session,
    connection: Connection,
) -> Api:
    """Users of app_fixtures plus a worker of the north-west grid; workers linked to members."""
    create_user(db_session, NEIGHBOUR_WORKER, PASSWORD, "grid_worker", GRID_NW)
    link(db_session, "west_worker", world.members["worker"])
    link(db_session, NEIGHBOUR_WORKER, world.members["neighbour"])
    db_session.commit()
    app.state.road_graphs = {tiny_district.DISTRICT: RoadGraph.from_connection(connection)}
    return Api(client, auth_headers, world, add_key(db_session, "test-channel"))

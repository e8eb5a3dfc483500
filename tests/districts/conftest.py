"""Two districts in one database: the API world of district A (420106: tiny district, road ladder,
team members, one user per role) and district B (420111, same city 4201) beside it, with users
scoped to B, to the city and an admin of the city."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user
from gis_api.routing.engine import RoadGraph
from tests import tiny_district
from tests.api.app_fixtures import PASSWORD
from tests.security.api_world import Api, api, app, areas, auth_headers, client, users, world

__all__ = ["Two", "api", "app", "areas", "auth_headers", "client", "two", "users", "world"]

OTHER_SW_GRID = tiny_district.OTHER_WEST + "00101"
OTHER_POINT = (114.335, 30.545)
"""In district B's south-west grid."""
B_USERS = {
    "other_op": ("district_operator", tiny_district.OTHER),
    "other_west_op": ("street_operator", tiny_district.OTHER_WEST),
    "other_planner": ("planner", tiny_district.OTHER),
    "city_op": ("city_operator", tiny_district.CITY),
    "city_admin": ("admin", tiny_district.CITY),
}


@dataclass(frozen=True)
class Two:
    """The API and district B's row ids (grids by code, 'plan'), and its team member."""

    api: Api
    other: dict[str, int]
    other_member: int


@pytest.fixture
def two(api: Api, connection: Connection, db_session: Session) -> Two:
    other = tiny_district.build_other(connection)
    member = connection.execute(
        text(
            "INSERT INTO team_member (name, role, home_grid_id, status, last_position, last_seen_at) "
            "VALUES ('洪山网格员', 'grid_worker', :g, 'available', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326), now()) RETURNING id"
        ),
        {"g": other[OTHER_SW_GRID], "x": OTHER_POINT[0] + 0.001, "y": OTHER_POINT[1]},
    ).scalar_one()
    for username, (role, scope) in B_USERS.items():
        create_user(db_session, username, PASSWORD, role, scope)
    db_session.commit()
    graphs = api.client.app.state.road_graphs  # type: ignore[attr-defined]
    graphs[tiny_district.OTHER] = RoadGraph.from_connection(connection, tiny_district.OTHER)  # no roads
    return Two(api, other, int(member))

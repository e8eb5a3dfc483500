"""HTTP for plans on the tiny district: list, show, compare with deviations, moved, activate."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests import tiny_district
from tests.api.app_fixtures import app, areas, auth_headers, client, users
from tests.plans.test_service import draft_split_east_west
from tests.tiles.mvt import decode, tile_of

__all__ = ["app", "areas", "auth_headers", "client", "users"]
Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def plan_ids(areas: dict[str, int], db_session: Session) -> tuple[int, int]:
    """(active tiny plan, draft splitting each community west/east)."""
    return areas["plan"], draft_split_east_west(db_session.connection())


def test_list_and_show(client: TestClient, auth_headers: Headers, plan_ids: tuple[int, int]) -> None:
    active, draft = plan_ids
    listed = client.get("/plans", headers=auth_headers("west_op")).json()
    assert [(p["id"], p["status"], p["communities"], p["grids"]) for p in listed] == [
        (draft, "draft", 2, 4),
        (active, "active", 2, 4),
    ]
    shown = client.get(f"/plans/{draft}", headers=auth_headers("west_op")).json()
    assert shown["name"] == "draft"
    assert client.get("/plans/999999", headers=auth_headers("west_op")).status_code == 404
    assert client.get("/plans").status_code == 401


def test_compare_reports_moves_and_deviation(
    client: TestClient, auth_headers: Headers, plan_ids: tuple[int, int]
) -> None:
    active, draft = plan_ids
    response = client.get(f"/plans/{active}/compare/{draft}?grid_target=2", headers=auth_headers("planner"))
    assert response.status_code == 200, response.text
    body = response.json()
    # every household keeps its community; the south ones (grid 01) move to the east half (grid 02)
    assert (body["households"], body["same_community"], body["same_grid"]) == (4, 4, 2)
    assert body["share_same_grid"] == 0.5
    grids_a = {g["code"]: (g["households"], g["deviation"]) for g in body["areas_a"]["grids"]}
    assert grids_a[tiny_district.WEST + "00101"] == (1, -0.5)
    grids_b = {g["code"]: (g["households"], g["deviation"]) for g in body["areas_b"]["grids"]}
    assert grids_b[tiny_district.WEST + "00101"] == (0, -1.0)
    assert grids_b[tiny_district.WEST + "00102"] == (2, 0.0)
    assert body["areas_b"]["grid_summary"]["within_5pct"] == 0.5
    # communities are measured against their street's mean: one community per street, so exact
    assert {c["deviation"] for c in body["areas_b"]["communities"]} == {0.0}
    fixed = client.get(
        f"/plans/{active}/compare/{draft}?community_target=4", headers=auth_headers("planner")
    ).json()
    assert {c["deviation"] for c in fixed["areas_a"]["communities"]} == {-0.5}


def test_compare_rejects_bad_targets(
    client: TestClient, auth_headers: Headers, plan_ids: tuple[int, int]
) -> None:
    active, draft = plan_ids
    response = client.get(f"/plans/{active}/compare/{draft}?grid_target=0", headers=auth_headers("planner"))
    assert response.status_code == 422
    assert "query parameter grid_target" in response.text
    assert client.get(f"/plans/{active}/compare/999999", headers=auth_headers("planner")).status_code == 404


def test_moved_households_as_building_points(
    client: TestClient, auth_headers: Headers, plan_ids: tuple[int, int]
) -> None:
    active, draft = plan_ids
    response = client.get(f"/plans/{active}/compare/{draft}/moved", headers=auth_headers("planner"))
    assert response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    # the two south households (no building: 50 m cells) change grid, not community
    assert sorted(f["geometry"]["coordinates"][0] for f in features) == [114.305, 114.315]
    assert {(f["properties"]["moved_grid"], f["properties"]["moved_community"]) for f in features} == {(1, 0)}


@pytest.mark.parametrize("user", ["west_op", "west_worker", "west_community_op"])
def test_only_planners_and_admins_activate(
    client: TestClient, auth_headers: Headers, plan_ids: tuple[int, int], user: str
) -> None:
    response = client.post(f"/plans/{plan_ids[1]}/activate", headers=auth_headers(user))
    assert response.status_code == 403
    assert (
        "may not activate plans: planners and admins with a city or district scope only"
        in response.json()["detail"]
    )


def test_activation_switches_plan_and_invalidates_caches(
    client: TestClient, auth_headers: Headers, plan_ids: tuple[int, int], db_session: Session
) -> None:
    active, draft = plan_ids
    tile = "/tiles/grids/{}/{}/{}.mvt".format(*tile_of(114.31, 30.55, 13))
    before = client.get(tile, headers=auth_headers("admin"))
    generation = client.app.state.tile_cache.generation  # type: ignore[attr-defined]
    client.app.state.locate_index._index = object()  # type: ignore[attr-defined]
    response = client.post(f"/plans/{draft}/activate", headers=auth_headers("planner"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert client.app.state.tile_cache.generation == generation + 1  # type: ignore[attr-defined]
    assert client.app.state.locate_index._index is None  # type: ignore[attr-defined]
    statuses: dict[int, str] = dict(db_session.execute(text("SELECT id, status::text FROM plan")).all())
    assert statuses == {active: "archived", draft: "active"}
    after = client.get(tile, headers={**auth_headers("admin"), "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert decode(after.content)["grids"].features != decode(before.content)["grids"].features
    again = client.post(f"/plans/{draft}/activate", headers=auth_headers("planner"))
    assert again.status_code == 409
    assert "only a draft can be activated" in again.json()["detail"]

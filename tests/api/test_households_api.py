"""GET /households: scope filtering per role, paging, auditing, and refusals."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests import tiny_district
from tests.api.app_fixtures import WEST_SOUTH_GRID

Headers = Callable[[str], dict[str, str]]
WHOLE_DISTRICT = "114.29,30.53,114.33,30.57"
EAST_HALF = "114.311,30.53,114.33,30.57"


def grid_codes(page: dict) -> list[str]:
    return [feature["properties"]["grid_code"] for feature in page["features"]]


def read(client: TestClient, headers: Headers, user: str, **params: object) -> dict:
    response = client.get("/households", params=params, headers=headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def audit_rows(session: Session, username: str) -> list[tuple[str, int, str]]:
    return [
        tuple(row)
        for row in session.execute(
            text("SELECT action, count, target FROM audit_log WHERE username = :u ORDER BY id"),
            {"u": username},
        )
    ]


def test_district_admin_sees_every_household(client: TestClient, auth_headers: Headers) -> None:
    page = read(client, auth_headers, "admin", bbox=WHOLE_DISTRICT)
    assert page["count"] == 4
    assert page["type"] == "FeatureCollection"
    assert page["features"][0]["geometry"]["type"] == "Point"


def test_street_operator_sees_only_own_street(client: TestClient, auth_headers: Headers) -> None:
    page = read(client, auth_headers, "west_op", bbox=WHOLE_DISTRICT)
    assert page["count"] == 2
    assert all(code.startswith(tiny_district.WEST) for code in grid_codes(page))
    assert read(client, auth_headers, "west_op", bbox=EAST_HALF)["count"] == 0
    assert read(client, auth_headers, "east_op", bbox=EAST_HALF)["count"] == 2


def test_community_operator_and_grid_worker_scopes(client: TestClient, auth_headers: Headers) -> None:
    assert read(client, auth_headers, "west_community_op")["count"] == 2
    assert grid_codes(read(client, auth_headers, "west_worker")) == [WEST_SOUTH_GRID]


def test_every_read_is_audited_with_its_count(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    read(client, auth_headers, "west_op", bbox=WHOLE_DISTRICT)
    read(client, auth_headers, "west_op", bbox=EAST_HALF)
    rows = audit_rows(db_session, "west_op")
    assert [(action, count) for action, count, _ in rows] == [("households.read", 2), ("households.read", 0)]
    assert f"bbox={EAST_HALF}" in rows[1][2]
    scope = db_session.execute(text("SELECT DISTINCT scope_code FROM audit_log")).scalars().all()
    assert scope == [tiny_district.WEST]


def test_planner_is_refused_and_the_refusal_audited(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    response = client.get("/households", headers=auth_headers("planner"))
    assert response.status_code == 403
    assert "planner may not read household points" in response.json()["detail"]
    assert [row[:2] for row in audit_rows(db_session, "planner")] == [("households.denied", 0)]


def test_keyset_pages_follow_next_links(client: TestClient, auth_headers: Headers) -> None:
    seen: list[int] = []
    url: str | None = "/households?limit=3"
    while url:
        page = client.get(url, headers=auth_headers("admin")).json()
        seen += [feature["id"] for feature in page["features"]]
        url = page["next"]
    assert len(seen) == 4
    assert seen == sorted(seen)


def test_offset_paging(client: TestClient, auth_headers: Headers) -> None:
    first_two = [f["id"] for f in read(client, auth_headers, "admin", limit=2)["features"]]
    skipped = read(client, auth_headers, "admin", limit=2, offset=1)
    assert skipped["features"][0]["id"] == first_two[1]


def test_personal_data_is_not_cached(client: TestClient, auth_headers: Headers) -> None:
    response = client.get("/households", headers=auth_headers("admin"))
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": "5001"}, "query parameter limit"),
        ({"limit": "0"}, "query parameter limit"),
        ({"after_id": "-1"}, "query parameter after_id"),
        ({"bbox": "114,30,115"}, "query parameter bbox"),
        ({"bbox": "114,30,nan,31"}, "ASCII digits"),
        ({"bbox": "114,30,１１５,31"}, "ASCII digits"),
    ],
)
def test_bad_parameters_are_422(
    client: TestClient, auth_headers: Headers, params: dict[str, str], expected: str
) -> None:
    response = client.get("/households", params=params, headers=auth_headers("admin"))
    assert response.status_code == 422
    assert expected in response.text


def test_households_need_a_valid_token(client: TestClient, areas: dict[str, int]) -> None:
    assert client.get("/households").status_code == 401
    bad = client.get("/households", headers={"Authorization": "Bearer not.a-token"})
    assert bad.status_code == 401
    assert bad.json()["detail"] == "malformed token"

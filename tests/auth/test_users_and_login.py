"""create_user (the `wangge user add` service), POST /auth/token and the CurrentUser checks."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user, list_users, set_user_active
from gis_api.auth.tokens import issue_token, signing_secret
from gis_api.config import Settings
from gis_api.errors import ConflictError, InvalidInputError
from tests import tiny_district
from tests.api.app_fixtures import PASSWORD, WEST_SOUTH_GRID

Headers = Callable[[str], dict[str, str]]


def test_create_user_stores_hash_and_reports(db_session: Session, areas: dict[str, int]) -> None:
    report = create_user(db_session, "li.lei", PASSWORD, "street_operator", tiny_district.WEST)
    assert str(report) == "user li.lei: role street_operator, scope 420106001 积玉桥街道"
    stored = db_session.execute(text("SELECT password_hash FROM app_user WHERE username = 'li.lei'"))
    assert stored.scalar_one().startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "password", "role", "scope", "message"),
    [
        ("ab", PASSWORD, "admin", "420106", "username 'ab' must be 3-64"),
        ("han mei", PASSWORD, "admin", "420106", "must be 3-64 characters"),
        ("hanmei", "short", "admin", "420106", "at least 8 characters"),
        ("hanmei", PASSWORD, "mayor", "420106", "unknown role 'mayor'"),
        ("hanmei", PASSWORD, "street_operator", "420106", "needs a street scope code"),
        ("hanmei", PASSWORD, "grid_worker", "420106001001", "needs a grid scope code"),
        ("hanmei", PASSWORD, "admin", "420107", "420107 is not a known district"),
        ("hanmei", PASSWORD, "street_operator", "420106009", "420106009 is not a known street"),
        (
            "hanmei",
            PASSWORD,
            "community_operator",
            "420106001999",
            "not a known community in the active plan",
        ),
        ("hanmei", PASSWORD, "grid_worker", "42010600100199", "not a known grid in the active plan"),
        ("hanmei", PASSWORD, "admin", "42O106", "digits only"),
        ("hanmei", PASSWORD, "admin", "4201061", "has 7 digits"),
    ],
)
def test_create_user_rejects_bad_input(
    db_session: Session,
    areas: dict[str, int],
    username: str,
    password: str,
    role: str,
    scope: str,
    message: str,
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        create_user(db_session, username, password, role, scope)
    assert db_session.execute(text("SELECT count(*) FROM app_user")).scalar_one() == 0


def test_duplicate_username_conflicts(db_session: Session, areas: dict[str, int]) -> None:
    create_user(db_session, "worker1", PASSWORD, "grid_worker", WEST_SOUTH_GRID)
    with pytest.raises(ConflictError, match="'worker1' already exists"):
        create_user(db_session, "worker1", PASSWORD, "admin", "420106")
    assert [u.username for u in list_users(db_session)] == ["worker1"]


def test_login_returns_bearer_token(client: TestClient, users: dict) -> None:
    response = client.post("/auth/token", data={"username": "west_op", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert (body["role"], body["scope_code"]) == ("street_operator", tiny_district.WEST)
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    found = me.json()
    definitions = found.pop("definitions")
    assert found == {
        "username": "west_op",
        "role": "street_operator",
        "scope_code": tiny_district.WEST,
        "scope_level": "street",
        "scope_name": "积玉桥街道",
        "may_read_households": True,
        "may_work_cases": True,
        "may_operate_cases": True,
        "may_read_team": True,
        "may_activate_plans": False,
        "may_read_contacts": True,
        "may_read_tracks": True,
        "may_build_plan_reports": False,
        "districts": [
            {
                "code": "420106",
                "name": "武昌区",
                "city_code": "4201",
                "city_name": "武汉市",
                "demo_data": False,
            }
        ],
    }
    levels = {item["level"]: item["code_lengths"] for item in definitions["levels"]}
    assert levels["city"] == [4] and levels["street"] == [9] and levels["grid"] == list(range(13, 21))
    assert (
        "planner" not in definitions["household_readers"] and "city" in definitions["roles"]["city_operator"]
    )
    contact_readers = {"admin", "city_operator", "district_operator", "street_operator"}
    assert set(definitions["contact_readers"]) == contact_readers
    assert "city_operator" in definitions["track_readers"] and "planner" not in definitions["track_readers"]
    assert definitions["plan_report_builders"] == ["admin", "planner"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("west_op", "wrong-password"), ("nobody", PASSWORD), ("west_op ", PASSWORD)],
)
def test_wrong_credentials_are_401_with_one_message(
    client: TestClient, users: dict, username: str, password: str
) -> None:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["detail"] == "incorrect username or password"


def test_control_characters_in_login_fields_are_422(client: TestClient, users: dict) -> None:
    response = client.post("/auth/token", data={"username": "west\x00op", "password": PASSWORD})
    assert response.status_code == 422
    assert "body field username: Value error, contains the control character U+0000" in response.text


def test_login_form_fields_are_required(client: TestClient, users: dict) -> None:
    response = client.post("/auth/token", data={"username": "west_op"})
    assert response.status_code == 422
    assert "body field password: Field required" in response.text


def test_missing_expired_and_forged_tokens_are_401(
    client: TestClient, users: dict, settings: Settings, db_session: Session
) -> None:
    assert client.get("/auth/me").json()["detail"].startswith("not authenticated")
    user_id = db_session.execute(text("SELECT id FROM app_user WHERE username = 'west_op'")).scalar_one()
    claims = {"uid": user_id, "sub": "west_op", "role": "street_operator", "scope": "420106001"}
    expired = issue_token(claims, signing_secret(settings), ttl_s=-1)
    forged = issue_token(claims, b"guessed-secret", ttl_s=600)
    for token, message in ((expired, "token expired"), (forged, "invalid token signature")):
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert message in response.json()["detail"]


def test_disabled_account_loses_access_at_once(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    headers = auth_headers("west_op")
    assert client.get("/auth/me", headers=headers).status_code == 200
    set_user_active(db_session, "west_op", False)
    response = client.get("/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "account is disabled or no longer exists"


def test_scope_comes_from_the_database_not_the_token(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    headers = auth_headers("west_op")
    db_session.execute(
        text("UPDATE app_user SET scope_code = :s WHERE username = 'west_op'"), {"s": tiny_district.EAST}
    )
    assert client.get("/auth/me", headers=headers).json()["scope_code"] == tiny_district.EAST

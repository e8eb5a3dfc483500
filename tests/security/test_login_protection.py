"""Brute force and sessions: lockout with backoff per username and address, rotating refresh tokens,
revocation that ends every session of a disabled account, Argon2id rehash of old hashes."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth import refresh, throttle
from gis_api.auth.service import set_user_active
from gis_api.ratelimit import Limit, take
from tests.api.app_fixtures import PASSWORD

Users = dict[str, tuple[str, str]]


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/auth/token", data={"username": username, "password": password})


def test_wrong_passwords_lock_the_account_with_growing_backoff(
    client: TestClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "BASE_LOCK_S", 0.5)
    statuses = [login(client, "west_op", "wrong-password").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [401, 429]
    locked = login(client, "west_op")  # even the right password waits while locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "too many failed logins for this account" in locked.text
    time.sleep(0.6)
    assert login(client, "west_op").status_code == 200
    assert login(client, "east_op").status_code == 200  # others never locked


def test_many_usernames_from_one_address_lock_the_address(
    client: TestClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(throttle.FREE_FAILURES, "addr", 4)
    for name in ("a1", "a2", "a3", "a4"):
        assert login(client, f"nobody-{name}").status_code == 401
    assert login(client, "nobody-a5").status_code == 401  # this one locks
    assert login(client, "admin").status_code == 429
    assert "this address" in login(client, "admin").text


def test_login_attempts_are_rate_limited_per_address(client: TestClient, users: Users, app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(update={"login_per_minute_per_address": 3})
    statuses = [login(client, "admin").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_buckets_live_in_the_database_shared_by_every_process(db_session: Session) -> None:
    """Two sessions (as two API workers would have) draw from one bucket."""
    limit = Limit("shared-test", per_minute=2)
    take(db_session, limit, "10.0.0.9")
    other = Session(bind=db_session.get_bind(), join_transaction_mode="create_savepoint")
    take(other, limit, "10.0.0.9")
    with pytest.raises(Exception, match="too many requests"):
        take(db_session, limit, "10.0.0.9")


def test_refresh_rotates_and_a_replayed_token_ends_the_login(
    client: TestClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = login(client, "west_worker").json()
    assert first["refresh_expires_in"] > first["expires_in"]
    renewed = client.post("/auth/refresh", data={"refresh_token": first["refresh_token"]})
    assert renewed.status_code == 200 and renewed.json()["refresh_token"] != first["refresh_token"]
    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert client.get("/auth/me", headers=headers).json()["username"] == "west_worker"
    # within the grace period a second tab's refresh with the same token still works
    assert client.post("/auth/refresh", data={"refresh_token": first["refresh_token"]}).status_code == 200
    monkeypatch.setattr(refresh, "REUSE_GRACE_S", -1)
    replay = client.post("/auth/refresh", data={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "used twice" in replay.json()["detail"]
    later = client.post("/auth/refresh", data={"refresh_token": renewed.json()["refresh_token"]})
    assert later.status_code == 401  # the whole family was revoked


def test_logout_ends_the_refresh_token(client: TestClient, users: Users) -> None:
    token = login(client, "admin").json()["refresh_token"]
    assert client.post("/auth/logout", data={"refresh_token": token}).status_code == 204
    assert client.post("/auth/refresh", data={"refresh_token": token}).status_code == 401


def test_disabling_ends_every_session_for_good(
    client: TestClient, users: Users, db_session: Session, auth_headers: Callable[[str], dict[str, str]]
) -> None:
    headers = auth_headers("west_op")
    refresh_token = login(client, "west_op").json()["refresh_token"]
    set_user_active(db_session, "west_op", False)
    assert client.get("/auth/me", headers=headers).status_code == 401
    assert client.post("/auth/refresh", data={"refresh_token": refresh_token}).status_code == 401
    set_user_active(db_session, "west_op", True)
    ended = client.get("/auth/me", headers=headers)  # the old token stays dead after re-enabling
    assert ended.status_code == 401 and "session was ended" in ended.json()["detail"]
    assert client.post("/auth/refresh", data={"refresh_token": refresh_token}).status_code == 401
    assert login(client, "west_op").status_code == 200


def test_old_scrypt_hashes_are_rehashed_with_argon2id_at_login(
    client: TestClient, users: Users, db_session: Session
) -> None:
    salt = b"fedcba9876543210"
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    db_session.execute(text("UPDATE app_user SET password_hash = :h WHERE username = 'admin'"), {"h": legacy})
    assert login(client, "admin").status_code == 200
    stored = db_session.execute(
        text("SELECT password_hash FROM app_user WHERE username = 'admin'")
    ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert login(client, "admin").status_code == 200


@pytest.mark.parametrize(
    "value", [b"Bearer \xc3\xa9t\xc3\xa9", b"Bearer \xff\xfe", "Bearer 令牌".encode(), b"Basic \xe4"]
)
def test_non_ascii_authorization_header_is_401(client: TestClient, users: Users, value: bytes) -> None:
    response = client.get("/cases", headers={"Authorization": value})  # type: ignore[dict-item]
    assert response.status_code == 401, response.text

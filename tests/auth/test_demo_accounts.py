"""Every demo account, the city operator included, logs in with the password the demo prints,
renews its session with the refresh token, and reads what its role may read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from gis_api.app import create_app
from gis_api.config import Settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo import users
from tests import tiny_district
from tests.cases import fixtures

MARCH = {"start": "2026-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}


@pytest.fixture
def committed(cluster: EmbeddedCluster) -> Iterator[tuple[str, Engine]]:
    """The tiny world committed in a database of its own (the demo accounts use their own sessions)."""
    name = f"wangge_test_demo_accounts_{id(cluster)}"
    cluster.drop_database(name)
    url = cluster.create_database(name)
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        fixtures.build(connection)
    yield url, engine
    engine.dispose()
    cluster.drop_database(name)


def test_every_demo_account_logs_in_and_renews(
    committed: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = committed
    # the demo picks its busiest street; the tiny world's west street stands in for it
    monkeypatch.setattr(users, "DEMO_STREET", tiny_district.WEST)
    printed = users.ensure_demo_users(engine, tmp_path)
    accounts = {line.split()[0]: line.split() for line in printed}
    assert set(accounts) == {"admin", "city", "district", "street", "community", "worker", "planner"}
    assert accounts["city"][1:3] == ["city_operator", tiny_district.CITY]
    client = TestClient(create_app(Settings(database_url=url, var_dir=tmp_path)))
    for username, (_, role, scope, password) in accounts.items():
        started = client.post("/auth/token", data={"username": username, "password": password})
        assert started.status_code == 200, (username, started.text)
        renewed = client.post("/auth/refresh", data={"refresh_token": started.json()["refresh_token"]})
        assert renewed.status_code == 200, (username, renewed.text)
        me = client.get("/auth/me", headers={"Authorization": f"Bearer {renewed.json()['access_token']}"})
        assert (me.json()["role"], me.json()["scope_code"]) == (role, scope)
    city = client.post("/auth/token", data={"username": "city", "password": accounts["city"][3]}).json()
    headers = {"Authorization": f"Bearer {city['access_token']}"}
    me = client.get("/auth/me", headers=headers).json()
    assert (me["scope_level"], me["scope_name"], me["may_operate_cases"]) == ("city", "武汉市", True)
    assert [d["code"] for d in me["districts"]] == [tiny_district.DISTRICT]
    workers = client.get("/assessment/kpis", headers=headers, params={"level": "worker", **MARCH})
    assert workers.status_code == 200 and workers.json()["rows"]
    planner = client.post("/auth/token", data={"username": "planner", "password": accounts["planner"][3]})
    refused = client.get(
        "/assessment/kpis",
        headers={"Authorization": f"Bearer {planner.json()['access_token']}"},
        params={"level": "worker", **MARCH},
    )
    assert refused.status_code == 403

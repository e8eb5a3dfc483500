"""Reliability over real HTTP: concurrent dispatches and retried creates, and a PostgreSQL restart
under the API (a throwaway cluster of its own, so nobody else's database is touched)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from gis_api.app import create_app
from gis_api.config import Settings
from gis_api.db.cluster import EmbeddedCluster
from tests.cases.fixtures import INCIDENT
from tests.events.live import LiveServer, _seed, live_server

__all__ = ["live_server"]

BODY = {"category_code": "E0201", "lon": INCIDENT[0], "lat": INCIDENT[1]}


def test_fifty_concurrent_dispatches_make_one_assignment(live_server: LiveServer) -> None:
    case_id = live_server.post("admin", "/cases", BODY).json()["id"]
    for action in ("accept", "register"):
        assert live_server.post("admin", f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    live_server.headers("west_op")  # log in before the race

    def dispatch(_: int) -> tuple[int, str]:
        response = live_server.post("west_op", f"/cases/{case_id}/dispatch", {})
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(dispatch, range(50)))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 409: 49}, statuses
    assert all(
        "cannot dispatch a case that is dispatched" in body for status, body in results if status == 409
    )
    engine = create_engine(live_server.database_url)
    with engine.connect() as connection:
        dispatches = connection.execute(
            text("SELECT count(*) FROM case_event WHERE case_id = :c AND action = 'dispatch'"), {"c": case_id}
        ).scalar_one()
        en_route = connection.execute(
            text("SELECT count(*) FROM team_member WHERE status = 'en_route'")
        ).scalar_one()
    engine.dispose()
    assert (dispatches, en_route) == (1, 1)


def test_concurrent_retries_with_one_key_create_one_case(live_server: LiveServer) -> None:
    headers = {**live_server.headers("west_op"), "Idempotency-Key": "flaky-network-1"}

    def create(_: int) -> tuple[int, int]:
        import httpx

        response = httpx.post(f"{live_server.base_url}/cases", json=BODY, headers=headers, timeout=60)
        return response.status_code, int(response.json()["id"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    assert Counter(status for status, _ in results) == {201: 1, 200: 19}
    assert len({case_id for _, case_id in results}) == 1


@pytest.fixture
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """A PostgreSQL cluster only this test uses (its own data directory and port)."""
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("restart"))
    cluster.ensure_running()
    yield cluster
    cluster.stop()
    shutil.rmtree(Path(cluster.root), ignore_errors=True)


def test_database_restart_gives_503_then_recovers(own_cluster: EmbeddedCluster) -> None:
    url = own_cluster.create_database("wangge_restart")
    _seed(url)
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        token = client.post("/auth/token", data={"username": "admin", "password": "correct horse battery"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert client.post("/cases", json=BODY, headers=headers).status_code == 201
        own_cluster.stop()
        away = [
            client.post("/cases", json=BODY, headers=headers),
            client.get("/cases", headers=headers),
            client.post(
                "/open311/v2/requests.json", data={"service_code": "E0201", "lat": "30.54", "long": "114.3"}
            ),
        ]
        assert [r.status_code for r in away] == [503, 503, 503], [r.text for r in away]
        assert "database unavailable" in away[0].text
        own_cluster.ensure_running()
        back = client.post("/cases", json=BODY, headers=headers)
        assert back.status_code == 201, back.text
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM incident")).scalar_one() == 2
    engine.dispose()
    app.state.engine.dispose()

"""The API's request session (`SessionDep`) as `wangge serve` runs it, without the tests' override:
one per request, closed (connection back in the pool) after the response."""

from fastapi.testclient import TestClient

from gis_api.app import create_app
from gis_api.config import Settings


def test_each_request_gets_a_session_and_gives_its_connection_back(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        for _ in range(3):
            response = client.get("/health")
            assert response.status_code == 200, response.text
            assert response.json()["postgis"]
        assert app.state.engine.pool.checkedout() == 0
        assert client.get("/tiles/households/16/1/1.mvt").status_code == 401  # refused before any query
        assert app.state.engine.pool.checkedout() == 0

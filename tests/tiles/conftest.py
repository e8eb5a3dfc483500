"""Fixtures: the API on the rolled-back test session (with the tile routes), tiny district, users."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.app_fixtures import app, areas, auth_headers, users
from tests.tiles.routers import include_web_routers

__all__ = ["app", "areas", "auth_headers", "client", "users"]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(include_web_routers(app)) as test_client:
        yield test_client

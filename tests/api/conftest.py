"""Fixtures: the API on the rolled-back test session, the tiny district, one user per role."""

from tests.api.app_fixtures import app, areas, auth_headers, client, users

__all__ = ["app", "areas", "auth_headers", "client", "users"]

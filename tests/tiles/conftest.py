"""Fixtures: the API on the rolled-back test session, tiny district, users."""

from tests.api.app_fixtures import app, areas, auth_headers, client, users

__all__ = ["app", "areas", "auth_headers", "client", "users"]

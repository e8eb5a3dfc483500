"""The API world (tiny district, roads, members, one user per role) for the hotline desk tests."""

from tests.security.api_world import api, app, areas, auth_headers, client, users, world

__all__ = ["api", "app", "areas", "auth_headers", "client", "users", "world"]

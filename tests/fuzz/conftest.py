"""The fuzz run uses the API world (tiny district, roads, members, one user per role)."""

from tests.security.api_world import api, app, areas, auth_headers, client, users, world

__all__ = ["api", "app", "areas", "auth_headers", "client", "users", "world"]

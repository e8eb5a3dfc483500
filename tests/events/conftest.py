"""Live-event tests run against a real server on a committed scratch database."""

from tests.events.live import live_server

__all__ = ["live_server"]

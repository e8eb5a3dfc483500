"""Road tests reuse the loaders' tiny district (a 2 km square in Wuchang)."""

from tests.loaders.conftest import district, fixtures

__all__ = ["district", "fixtures"]

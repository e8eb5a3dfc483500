"""Rendered tiles kept in memory by ETag, and the generation counter that invalidates them.

The ETag already changes when the plan or the data change (see service.tile_stamp); the
generation is bumped on plan activation so this process forgets its tiles at once as well.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from fastapi import FastAPI

from gis_api.tiles.service import Tile

DEFAULT_MAX_BYTES = 64 * 2**20


class TileCache:
    """Least-recently-used rendered tiles, bounded by the total size of their bodies in bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.generation = 0
        self._bodies: OrderedDict[str, Tile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> Tile | None:
        with self._lock:
            tile = self._bodies.get(etag)
            if tile is not None:
                self._bodies.move_to_end(etag)
            return tile

    def put(self, etag: str, tile: Tile) -> None:
        if len(tile.body) > self.max_bytes // 8:
            return  # one huge tile must not evict everything else
        with self._lock:
            if etag in self._bodies:
                return
            self._bodies[etag] = tile
            self._bytes += len(tile.body)
            while self._bytes > self.max_bytes:
                _, evicted = self._bodies.popitem(last=False)
                self._bytes -= len(evicted.body)

    def invalidate(self) -> None:
        """Forget every tile and change every ETag this process hands out."""
        with self._lock:
            self.generation += 1
            self._bodies.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._bodies)


_CREATE_LOCK = threading.Lock()


def tile_cache(app: FastAPI) -> TileCache:
    """The application's tile cache, created on first use."""
    cache = getattr(app.state, "tile_cache", None)
    if cache is None:
        with _CREATE_LOCK:
            cache = getattr(app.state, "tile_cache", None)
            if cache is None:
                cache = TileCache()
                app.state.tile_cache = cache
    return cache

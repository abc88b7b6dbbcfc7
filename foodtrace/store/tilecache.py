"""A bounded in-memory cache of stored tiles above the bottom level, for proof reads.

A proof at index ``i`` needs one hash from each tree level; all but the lowest eight come
from the few tiles above tile level 0, which every proof shares. Caching those turns a
proof into one query (the bottom tile) plus dictionary lookups. Caching is safe because a
stored hash never changes: a full tile is immutable, and a partial tile only gains hashes
on its right as the log grows, so a cached partial tile answers every node it holds and a
node beyond its width is simply a miss (read again, and the wider tile replaces it).

Each :class:`~foodtrace.store.log.MerkleLog` owns one (``log.tiles``), so every reader that
goes through the log (its proofs, :meth:`~foodtrace.store.log.MerkleLog.read_nodes` for the
resolver's badge) shares it; :meth:`TileCache.clear` empties it (after restoring the database
from a backup under a running process, say).
"""

from __future__ import annotations

import threading

from foodtrace.trace.layout import TileId

MAX_TILES = 4096
"""Upper tiles kept per database: 4096 × ~16 KB = 64 MB at most; a 1M-entry log has 17."""
MIN_TILE_LEVEL = 1
"""Tile level 0 (leaf hashes and the 7 levels above them) is read per proof, not cached."""


class TileCache:
    """``(tile_level, tile_index) → (width, blob)`` for tile levels ≥ :data:`MIN_TILE_LEVEL`."""

    __slots__ = ("_lock", "_tiles", "max_tiles")

    def __init__(self, max_tiles: int = MAX_TILES) -> None:
        self.max_tiles = max_tiles
        self._tiles: dict[TileId, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, tile: TileId, width: int) -> bytes | None:
        """The blob of ``tile`` if cached at least ``width`` bottom hashes wide."""
        got = self._tiles.get(tile)
        if got is None or got[0] < width:
            return None
        return got[1]

    def cached(self, tile: TileId) -> tuple[int, bytes] | None:
        """``(width, blob)`` of ``tile`` as cached, whatever its width."""
        return self._tiles.get(tile)

    def put(self, tile: TileId, width: int, blob: bytes) -> None:
        """Remember a tile read from the database (a narrower copy is replaced)."""
        if tile[0] < MIN_TILE_LEVEL:
            return
        with self._lock:
            old = self._tiles.get(tile)
            if old is not None and old[0] >= width:
                return
            if old is None and len(self._tiles) >= self.max_tiles:
                # Bounded without bookkeeping per hit: drop the lowest tile level's tiles
                # first (the most numerous, the least shared between proofs).
                lowest = min(level for level, _ in self._tiles)
                for key in [k for k in self._tiles if k[0] == lowest]:
                    del self._tiles[key]
            self._tiles[tile] = (width, blob)

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()

    def __len__(self) -> int:
        return len(self._tiles)

"""Proofs read from stored tiles: which nodes a proof needs, and reading them in one query.

The plan is arithmetic (RFC 9162 section 2.1.3, written for the tiles: the sibling at each
level below the right border, then the left siblings above it), and the reader turns nodes
into hashes with slices of tile blobs: every tile above the bottom level from the
:class:`~foodtrace.store.tilecache.TileCache`, the bottom tile(s) in one query. No per-hash
objects beyond the hashes themselves. :func:`foodtrace.trace.merkle.inclusion_proof` (the
general plan) stays the oracle the tests compare against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from foodtrace.store.tilecache import MIN_TILE_LEVEL, TileCache
from foodtrace.trace.errors import MalformedInputError
from foodtrace.trace.layout import TILE_HEIGHT, TILE_WIDTH, TileId, level_offset
from foodtrace.trace.merkle import HASH_SIZE, Node, perfect_nodes

Query = Callable[[str, Sequence[Any]], list[Any]]
"""Run one SQL statement (``?`` placeholders) and return its rows."""

_FULL_OFFSETS = [level_offset(TILE_WIDTH, k) * HASH_SIZE for k in range(TILE_HEIGHT)]
_SELECT = "SELECT level, idx, width, hashes FROM tiles WHERE "
_ONE = _SELECT + "level = ? AND idx = ?"
_sha256 = hashlib.sha256


def inclusion_elements(index: int, size: int) -> list[Node | list[Node]]:
    """The audit path of leaf ``index`` in a tree of ``size`` leaves, leaf to root: each
    element is a perfect node, or (at most one, at the right border) the perfect nodes whose
    right fold is that element."""
    if index < 0 or size < 0 or index >= size:
        raise MalformedInputError(f"leaf_index {index} is not below tree_size {size}")
    inner = (index ^ (size - 1)).bit_length()
    out: list[Node | list[Node]] = [(level, (index >> level) ^ 1) for level in range(inner - 1)]
    if inner:
        level = inner - 1
        if (index >> level) & 1:
            out.append((level, (index >> level) ^ 1))
        else:  # the right sibling: everything from the next subtree to the end of the tree
            nodes = perfect_nodes(((index >> level) + 1) << level, size)
            out.append(nodes[0] if len(nodes) == 1 else nodes)
    rest, level = index >> inner, inner
    while rest:
        if rest & 1:
            out.append((level, rest ^ 1))
        rest >>= 1
        level += 1
    return out


class TileReader:
    """Reads perfect-node hashes from the ``tiles`` table through ``query``, keeping the
    upper tiles in ``cache``."""

    def __init__(self, query: Query, cache: TileCache) -> None:
        self.query = query
        self.cache = cache
        self._last: dict[TileId, tuple[int, bytes]] = {}

    def read(self, nodes: Sequence[Node], also: dict[TileId, int] | None = None) -> list[bytes]:
        """The stored hash of every node, in order (a :data:`merkle.NodeReader`); raises
        :class:`LookupError` for a node the tree does not hold yet. ``also``: more tiles
        (and widths) to read in the same query and keep in :attr:`fetched`."""
        need: dict[TileId, int] = dict(also) if also else {}
        located: list[tuple[TileId, int, int]] = []
        for level, index in nodes:
            tile_level, k = divmod(level, TILE_HEIGHT)
            shift = TILE_HEIGHT - k
            tile = (tile_level, index >> shift)
            offset = index & ((1 << shift) - 1)
            located.append((tile, k, offset))
            width = (offset + 1) << k
            if need.get(tile, 0) < width:
                need[tile] = width
        blobs = self._tiles(need)
        out: list[bytes] = []
        for (tile, k, offset), node in zip(located, nodes, strict=True):
            width, blob = blobs.get(tile, (0, b""))
            if (offset + 1) << k > width:
                raise LookupError(f"node {node} is not stored: the log is smaller")
            base = _FULL_OFFSETS[k] if width == TILE_WIDTH else level_offset(width, k) * HASH_SIZE
            pos = base + offset * HASH_SIZE
            out.append(blob[pos : pos + HASH_SIZE])
        return out

    def _tiles(self, need: dict[TileId, int]) -> dict[TileId, tuple[int, bytes]]:
        """``(width, blob)`` of each tile in ``need``: from the cache when it holds at least
        the width needed, the rest in one query. Tiles read by the previous call are reused
        (a fold and the path of one proof share them)."""
        blobs: dict[TileId, tuple[int, bytes]] = {}
        missing: list[TileId] = []
        cache, last = self.cache, self._last
        for tile, width in need.items():
            got = last.get(tile)
            if got is None or got[0] < width:
                got = cache.cached(tile) if tile[0] >= MIN_TILE_LEVEL else None
            if got is not None and got[0] >= width:
                blobs[tile] = got
            else:
                missing.append(tile)
        if missing:
            if len(missing) == 1:
                rows = self.query(_ONE, missing[0])
            else:
                where = " OR ".join(["(level = ? AND idx = ?)"] * len(missing))
                rows = self.query(_SELECT + where, [x for t in missing for x in t])
            for level, idx, width, blob in rows:
                tile, blob = (level, idx), bytes(blob)
                blobs[tile] = (width, blob)
                if level >= MIN_TILE_LEVEL:
                    cache.put(tile, width, blob)
        for tile, width in need.items():
            if blobs.get(tile, (0, b""))[0] < width:
                raise LookupError(f"tile {tile} is not stored {width} wide: the log is smaller")
        self._last = blobs
        return blobs

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 audit path of ``index`` in the tree of ``size`` leaves: one read.

        Every element but (sometimes) one is the sibling of the leaf's ancestor at its level,
        which lies in the ancestor's own tile: so the tiles are one per tile level on the
        leaf's path, plus the right border's for an element that is a fold."""
        elements = inclusion_elements(index, size)
        fold: list[Node] = []
        levels: list[int] = []
        for e in elements:
            if isinstance(e, list) or e[1] != (index >> e[0]) ^ 1:
                fold = e if isinstance(e, list) else [e]  # the right border's subtree
                levels.append(-1)
            else:
                levels.append(e[0])
        need: dict[TileId, int] = {}
        for level in levels:
            if level < 0:
                continue
            tile_level, k = divmod(level, TILE_HEIGHT)
            tile = (tile_level, index >> (tile_level * TILE_HEIGHT + TILE_HEIGHT))
            width = ((((index >> level) ^ 1) & ((1 << (TILE_HEIGHT - k)) - 1)) + 1) << k
            if need.get(tile, 0) < width:
                need[tile] = width
        folded = b""
        if fold:
            part = self.read(fold, need)
            acc = part[-1]
            for h in reversed(part[:-1]):
                acc = _sha256(b"\x01" + h + acc).digest()
            folded = acc
        blobs = self._tiles(need)
        proof: list[bytes] = []
        for level in levels:
            if level < 0:
                proof.append(folded)
                continue
            tile_level, k = divmod(level, TILE_HEIGHT)
            width, blob = blobs[(tile_level, index >> (tile_level * TILE_HEIGHT + TILE_HEIGHT))]
            offset = ((index >> level) ^ 1) & ((1 << (TILE_HEIGHT - k)) - 1)
            base = _FULL_OFFSETS[k] if width == TILE_WIDTH else level_offset(width, k) * HASH_SIZE
            pos = base + offset * HASH_SIZE
            proof.append(blob[pos : pos + HASH_SIZE])
        return proof

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

    def read(self, nodes: Sequence[Node]) -> list[bytes]:
        """The stored hash of every node, in order (a :data:`merkle.NodeReader`); raises
        :class:`LookupError` for a node the tree does not hold yet."""
        need: dict[TileId, int] = {}  # bottom width each tile must have
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
        blobs: dict[TileId, tuple[int, bytes]] = {}
        missing: list[TileId] = []
        cache = self.cache
        for tile, width in need.items():
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
        out: list[bytes] = []
        for (tile, k, offset), node in zip(located, nodes, strict=True):
            width, blob = blobs.get(tile, (0, b""))
            if (offset + 1) << k > width:
                raise LookupError(f"node {node} is not stored: the log is smaller")
            base = _FULL_OFFSETS[k] if width == TILE_WIDTH else level_offset(width, k) * HASH_SIZE
            pos = base + offset * HASH_SIZE
            out.append(blob[pos : pos + HASH_SIZE])
        return out

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 audit path of ``index`` in the tree of ``size`` leaves: one read."""
        elements = inclusion_elements(index, size)
        wanted: list[Node] = []
        for e in elements:
            if isinstance(e, list):
                wanted += e
            else:
                wanted.append(e)
        hashes = iter(self.read(wanted))
        proof: list[bytes] = []
        for e in elements:
            if isinstance(e, list):
                part = [next(hashes) for _ in e]
                acc = part[-1]
                for h in reversed(part[:-1]):
                    acc = _sha256(b"\x01" + h + acc).digest()
                proof.append(acc)
            else:
                proof.append(next(hashes))
        return proof

"""Where a stored Merkle tree keeps its node hashes: tiles of 8 levels, 256 hashes wide.

A tile ``(tile_level L, tile_index N)`` holds the perfect subtree hashes at tree levels
``8L .. 8L+7`` below its 256 bottom nodes: bottom level first (``width`` hashes, nodes
``(8L, N*256 + j)``), then each level above (``width >> 1``, ``width >> 2``, ... hashes).
A full tile (width 256) never changes again; only the rightmost tile of each tile level is
partial and is rewritten as the log grows. The tile's own root (tree level ``8L+8``) is the
bottom hash ``N`` of tile level ``L+1``, so every perfect node of the tree is stored exactly
once and a proof reads O(log n / 8) tiles instead of recomputing subtrees (as in
transparency-dev/tessera, but with the inner levels stored so reads hash nothing).

Everything here is arithmetic and hashing over plain values: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from foodtrace.trace.merkle import HASH_SIZE, Node, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

TileId = tuple[int, int]
"""(tile_level, tile_index)."""


def locate(node: Node) -> tuple[TileId, int, int]:
    """The tile holding a node, and the node's (level, offset) inside that tile."""
    level, index = node
    tile_level, k = divmod(level, TILE_HEIGHT)
    shift = TILE_HEIGHT - k
    return (tile_level, index >> shift), k, index & ((1 << shift) - 1)


def level_offset(width: int, k: int) -> int:
    """How many hashes precede in-tile level ``k`` in a tile whose bottom is ``width`` wide."""
    return sum(width >> j for j in range(k))


def tile_hashes(width: int) -> int:
    """How many hashes a tile of this bottom width stores (all its perfect inner nodes)."""
    return level_offset(width, TILE_HEIGHT)


def hash_in_tile(blob: bytes, width: int, k: int, offset: int) -> bytes:
    """The hash of in-tile node (k, offset); raises ``KeyError`` if the tile does not hold it."""
    if k >= TILE_HEIGHT or (offset + 1) << k > width:
        raise KeyError(f"node ({k}, {offset}) is not in a tile of width {width}")
    pos = (level_offset(width, k) + offset) * HASH_SIZE
    return blob[pos : pos + HASH_SIZE]


def build_tile(bottom: Sequence[bytes]) -> tuple[bytes, bytes | None]:
    """A tile's stored bytes from its bottom hashes, and its root if the tile is full."""
    width = len(bottom)
    if not 0 < width <= TILE_WIDTH:
        raise ValueError(f"a tile has 1..{TILE_WIDTH} bottom hashes, got {width}")
    levels: list[list[bytes]] = [list(bottom)]
    cur = levels[0]
    sha = hashlib.sha256  # inlined node_hash: this loop is most of an append's hashing
    for _ in range(TILE_HEIGHT - 1):
        cur = [sha(b"\x01" + cur[i] + cur[i + 1]).digest() for i in range(0, len(cur) - 1, 2)]
        levels.append(cur)
    blob = b"".join(h for lvl in levels for h in lvl)
    root = node_hash(cur[0], cur[1]) if width == TILE_WIDTH else None
    return blob, root


def tile_width(size: int, tile_level: int, tile_index: int) -> int:
    """How many bottom hashes tile (level, index) has in a tree of ``size`` leaves (0: none)."""
    nodes = size >> (TILE_HEIGHT * tile_level)
    return max(0, min(TILE_WIDTH, nodes - tile_index * TILE_WIDTH))


def tile_levels(size: int) -> int:
    """How many tile levels a tree of ``size`` leaves has (0 for the empty tree)."""
    levels = 0
    while size >> (TILE_HEIGHT * levels) > 0:
        levels += 1
    return levels


def tiles_of(size: int) -> list[tuple[TileId, int]]:
    """Every tile a tree of ``size`` leaves stores, with its width, bottom level first."""
    out: list[tuple[TileId, int]] = []
    tile_level = 0
    while (nodes := size >> (TILE_HEIGHT * tile_level)) > 0:
        for index in range((nodes + TILE_WIDTH - 1) // TILE_WIDTH):
            out.append(((tile_level, index), min(TILE_WIDTH, nodes - index * TILE_WIDTH)))
        tile_level += 1
    return out


def edge_tiles(size: int) -> list[tuple[TileId, int]]:
    """The partial (rightmost, not full) tile of each tile level, with its width."""
    out: list[tuple[TileId, int]] = []
    tile_level = 0
    while (nodes := size >> (TILE_HEIGHT * tile_level)) > 0:
        if nodes % TILE_WIDTH:
            out.append(((tile_level, nodes // TILE_WIDTH), nodes % TILE_WIDTH))
        tile_level += 1
    return out


@dataclass(frozen=True)
class TileWrite:
    """A tile to store (insert or replace)."""

    tile: TileId
    width: int
    blob: bytes


@dataclass
class Edge:
    """The right edge of a tree: the bottom hashes of each level's partial tile.

    This is all an appender needs to know about the existing tree; extending it yields the
    tiles to write. ``partial[L]`` belongs to tile ``(L, (size >> 8L) >> 8)``.
    """

    size: int = 0
    partial: list[list[bytes]] = field(default_factory=list)

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[TileWrite]:
        """Append leaves; return every tile that changed, each once, in its final state."""
        new = list(leaf_hashes)
        old_size, size = self.size, self.size + len(new)
        writes: list[TileWrite] = []
        touched: list[int] = []
        tile_level = 0
        while new:  # one tile level at a time: the roots of tiles filled here go up a level
            if tile_level == len(self.partial):
                self.partial.append([])
            bottom = self.partial[tile_level]
            tile_index = (old_size >> (TILE_HEIGHT * tile_level)) // TILE_WIDTH
            roots: list[bytes] = []
            pos = 0
            while pos < len(new):
                room = TILE_WIDTH - len(bottom)
                bottom += new[pos : pos + room]
                pos += room
                if len(bottom) == TILE_WIDTH:
                    blob, tile_root = build_tile(bottom)
                    assert tile_root is not None
                    writes.append(TileWrite((tile_level, tile_index), TILE_WIDTH, blob))
                    roots.append(tile_root)
                    bottom = []
                    tile_index += 1
            self.partial[tile_level] = bottom
            touched.append(tile_level)
            new = roots
            tile_level += 1
        self.size = size
        for tile_level in touched:
            bottom = self.partial[tile_level]
            if bottom:
                index = (size >> (TILE_HEIGHT * tile_level)) // TILE_WIDTH
                writes.append(TileWrite((tile_level, index), len(bottom), build_tile(bottom)[0]))
        return writes


def bottom_of(blob: bytes, width: int) -> list[bytes]:
    """The bottom hashes of a stored tile."""
    return [blob[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(width)]

"""Tile arithmetic against the reference tree: every perfect node is found where stored."""

from __future__ import annotations

import hashlib

import pytest

from foodtrace.trace import layout
from foodtrace.trace.merkle import MemoryTree, perfect_nodes


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


def _store(size: int, steps: list[int]) -> dict[layout.TileId, layout.TileWrite]:
    edge, tiles, leaves, done = layout.Edge(), {}, _leaves(size), 0
    for step in steps:
        for w in edge.extend(leaves[done : done + step]):
            tiles[w.tile] = w
        done += step
    assert edge.size == size
    return tiles


@pytest.mark.parametrize(
    "size,steps",
    [(1, [1]), (255, [255]), (256, [256]), (257, [100, 157]), (70_000, [1, 65_535, 1, 4463])],
)
def test_every_perfect_node_is_in_its_tile(size: int, steps: list[int]) -> None:
    tiles = _store(size, steps)
    assert sorted(tiles) == sorted(t for t, _ in layout.tiles_of(size))
    assert {t: w.width for t, w in tiles.items()} == dict(layout.tiles_of(size))
    tree = MemoryTree(_leaves(size))
    nodes = [*perfect_nodes(0, size), (0, size - 1), (1, (size - 1) // 2)]
    nodes += [(lvl, 0) for lvl in range(size.bit_length()) if 1 << lvl <= size]
    for node in nodes:
        if (node[1] + 1) << node[0] > size:
            continue
        tile, k, offset = layout.locate(node)
        w = tiles[tile]
        assert layout.hash_in_tile(w.blob, w.width, k, offset) == tree.read([node])[0], node


def test_edge_extend_equals_one_shot() -> None:
    one = _store(1000, [1000])
    many = _store(1000, [1] * 300 + [700])
    assert {t: w.blob for t, w in one.items()} == {t: w.blob for t, w in many.items()}


def test_missing_node_raises() -> None:
    blob, root = layout.build_tile(_leaves(3))
    assert root is None
    with pytest.raises(KeyError):
        layout.hash_in_tile(blob, 3, 1, 1)  # needs leaves 2 and 3
    assert len(blob) == layout.tile_hashes(3) * 32


def test_edge_tiles_and_levels() -> None:
    assert layout.edge_tiles(0) == [] and layout.tile_levels(0) == 0
    assert layout.edge_tiles(256) == [((1, 0), 1)]
    assert layout.edge_tiles(65_537) == [((0, 256), 1), ((2, 0), 1)]
    assert layout.tile_levels(65_536) == 3
    assert layout.tile_width(300, 0, 1) == 44 and layout.tile_width(300, 1, 0) == 1

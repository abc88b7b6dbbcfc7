"""Proofs read through the tile cache agree with the reference tree while the log grows."""

from __future__ import annotations

import random

import pytest
from test_log import _records

from foodtrace.store.log import MerkleLog
from foodtrace.store.proofs import inclusion_elements
from foodtrace.store.tilecache import TileCache
from foodtrace.trace import merkle
from foodtrace.trace.errors import MalformedInputError
from foodtrace.trace.merkle import MemoryTree


def _flat(elements: list[merkle.Node | list[merkle.Node]]) -> list[merkle.Node]:
    out: list[merkle.Node] = []
    for e in elements:
        out += e if isinstance(e, list) else [e]
    return out


def test_the_plan_reads_exactly_the_nodes_of_the_general_plan() -> None:
    rng = random.Random(3)
    cases = [(i, s) for s in range(1, 140) for i in range(s)]
    cases += [(rng.randrange(s), s) for s in (rng.randint(1, 1 << 40) for _ in range(3000))]
    for index, size in cases:
        assert _flat(inclusion_elements(index, size)) == merkle.inclusion_nodes(index, size)
    for index, size in [(0, 0), (5, 5), (-1, 3)]:
        with pytest.raises(MalformedInputError):
            inclusion_elements(index, size)


def test_cached_upper_tiles_follow_the_growing_log(log: MerkleLog) -> None:
    records = _records(0, 6000)
    tree = MemoryTree([r.hash for r in records])
    rng = random.Random(11)
    size = 0
    for step in (300, 1, 255, 1000, 17, 2000, 2427):
        log.append_leaves([r.data for r in records[size : size + step]], ("event", "a", "k", "t"))
        size += step
        for _ in range(60):  # the current size (partial upper tiles) and earlier ones
            s = size if rng.random() < 0.5 else rng.randint(1, size)
            index = rng.randrange(s)
            proof = log.inclusion_proof(index, s)
            assert proof == merkle.inclusion_proof(index, s, tree.read)
            merkle.verify_inclusion(index, s, records[index].hash, proof, tree.root(s))
        assert log.root() == tree.root(size)
    assert len(log.tiles) >= 1  # tile level 1 was read through the cache
    with pytest.raises(LookupError):
        log.read_nodes([(0, size)])


def test_the_cache_is_bounded_and_keeps_wider_copies() -> None:
    cache = TileCache(max_tiles=4)
    cache.put((0, 1), 256, b"bottom")  # the bottom level is never cached
    assert cache.cached((0, 1)) is None
    cache.put((1, 0), 3, b"narrow")
    cache.put((1, 0), 2, b"older")
    assert cache.get((1, 0), 3) == b"narrow" and cache.get((1, 0), 4) is None
    cache.put((1, 0), 5, b"wider")
    assert cache.get((1, 0), 4) == b"wider"
    for i in range(1, 4):
        cache.put((2, i), 256, b"x")
    cache.put((2, 9), 256, b"y")  # full: the lowest tile level goes first
    assert len(cache) <= 4 and cache.cached((1, 0)) is None and cache.get((2, 9), 256) == b"y"
    cache.clear()
    assert len(cache) == 0

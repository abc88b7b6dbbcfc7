"""tlog-tiles paths, availability and bundles, against the examples of c2sp.org/tlog-tiles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foodtrace.trace.tlog_tiles import (
    MAX_BUNDLED_ENTRY_BYTES,
    BundleEntryTooLarge,
    TilePathError,
    TileRef,
    available,
    encode_bundle,
    encode_index,
    parse_path,
    tiles_for,
)


@pytest.mark.parametrize(
    ("n", "encoded"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_encoding(n: int, encoded: str) -> None:
    assert encode_index(n) == encoded


def test_paths_of_the_spec() -> None:
    assert TileRef(0, 1234067, 8).path == "tile/0/x001/x234/067.p/8"
    assert TileRef(None, 1234067).path == "tile/entries/x001/x234/067"
    assert parse_path("tile/2/x001/x234/067") == TileRef(2, 1234067, 256)
    assert parse_path("tile/entries/000.p/255") == TileRef(None, 0, 255)


@given(
    st.one_of(st.none(), st.integers(0, 63)),
    st.integers(0, 10**12),
    st.integers(1, 256),
)
def test_paths_round_trip(level: int | None, index: int, width: int) -> None:
    ref = TileRef(level, index, width)
    assert parse_path(ref.path) == ref


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",  # not zero-padded
        "tile/0/x000/001",  # a leading zero group: not canonical
        "tile/0/001/002",  # inner group without x
        "tile/00/000",  # leading zero in the level
        "tile/64/000",  # level above 63
        "tile/0/000.p/0",
        "tile/0/000.p/256",  # a full tile has no .p
        "tile/0/000.p/08",
        "tile/0/000.p",
        "tile/entries",
        "checkpoint",
        "tile/0/x001",
    ],
)
def test_non_canonical_paths_are_refused(path: str) -> None:
    with pytest.raises(TilePathError):
        parse_path(path)


def test_tiles_of_a_tree_of_70000() -> None:
    """The spec's example: 273 full level-0 tiles, a partial one of width 112, one full
    level-1 tile, a partial level-1 tile of width 17 and a partial level-2 tile of width 1."""
    refs = [r for r in tiles_for(70_000) if not r.is_entries]
    level0 = [r for r in refs if r.level == 0]
    assert sum(1 for r in level0 if not r.is_partial) == 273
    assert [r.width for r in level0 if r.is_partial] == [112]
    assert [r.width for r in refs if r.level == 1] == [256, 17]
    assert [(r.index, r.width) for r in refs if r.level == 2] == [(0, 1)]
    assert {r.level for r in refs} == {0, 1, 2}
    bundles = [r for r in tiles_for(70_000) if r.is_entries]
    assert [r.width for r in bundles] == [256] * 273 + [112]


def test_a_tree_of_256_has_a_partial_level_1_tile() -> None:
    assert [(r.level, r.index, r.width) for r in tiles_for(256)] == [
        (0, 0, 256),
        (None, 0, 256),
        (1, 0, 1),
    ]


def test_availability_follows_the_checkpoint_size() -> None:
    assert available(256, TileRef(0, 0))
    assert not available(255, TileRef(0, 0))  # not full yet: a full tile must be final
    assert available(300, TileRef(0, 1, 44)) and available(300, TileRef(0, 1, 10))
    assert not available(300, TileRef(0, 1, 45))
    assert not available(300, TileRef(0, 2, 1))
    assert available(300, TileRef(1, 0, 1)) and not available(300, TileRef(1, 0, 2))
    assert not available(0, TileRef(None, 0, 1))


def test_bundle_length_prefix_and_its_limit() -> None:
    big = b"x" * MAX_BUNDLED_ENTRY_BYTES
    assert encode_bundle(0, [b"ab", b""]) == b"\x00\x02ab\x00\x00"
    assert encode_bundle(0, [big])[:2] == b"\xff\xff"
    with pytest.raises(BundleEntryTooLarge, match="entry 513 is 65536 bytes"):
        encode_bundle(512, [b"", big + b"x"])

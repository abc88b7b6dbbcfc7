"""Paths, availability and entry bundles of the C2SP tlog-tiles layout (c2sp.org/tlog-tiles).

A tiles client fetches ``checkpoint``, hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry bundles
``tile/entries/<N>[.p/<W>]`` and computes every proof itself. The hash tile ``(L, N)`` is the
bottom level of our stored tile ``(L, N)`` (:mod:`foodtrace.trace.layout` keeps the same 8×256
geometry, plus the inner levels a tiles client recomputes), so serving is slicing.

What may be served is decided by the size of the latest signed checkpoint, never by the size
of the database: a full tile is immutable only once its 256 hashes are covered by a checkpoint,
and a partial tile of width ``W`` is a prefix of the log a checkpoint already committed to.

Everything here is arithmetic over plain values: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from foodtrace.trace.layout import TILE_HEIGHT, TILE_WIDTH, tile_width

MAX_LEVEL = 63
MAX_BUNDLED_ENTRY_BYTES = 0xFFFF
"""An entry bundle prefixes each entry with a big-endian uint16 length: 65,535 bytes at most.

Our entries may reach ``MAX_ENTRY_BYTES`` (64 KiB = 65,536) and JCS may lengthen a submitted
entry slightly, so an entry above this limit is possible in principle; its bundle cannot be
encoded and is refused (:class:`BundleEntryTooLarge`), never truncated."""

_GROUP = re.compile(r"^x[0-9]{3}$")
_LAST = re.compile(r"^[0-9]{3}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


class TilePathError(ValueError):
    """A path that is not a canonical tlog-tiles resource name."""


class BundleEntryTooLarge(ValueError):
    """An entry too long for the uint16 length prefix of an entry bundle."""

    def __init__(self, index: int, size: int) -> None:
        super().__init__(
            f"entry {index} is {size} bytes; an entry bundle holds entries of at most "
            f"{MAX_BUNDLED_ENTRY_BYTES} bytes"
        )
        self.index = index
        self.size = size


@dataclass(frozen=True)
class TileRef:
    """One tiles resource: a hash tile (``level`` 0..63) or an entry bundle (``level`` None).

    ``width`` is 256 for a full tile and 1..255 for a partial one (``.p/<W>``).
    """

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level is None

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """The resource's path below the log's prefix, e.g. ``tile/0/x001/x234/067.p/8``."""
        head = "tile/entries" if self.level is None else f"tile/{self.level}"
        tail = f".p/{self.width}" if self.is_partial else ""
        return f"{head}/{encode_index(self.index)}{tail}"

    @property
    def hash_level(self) -> int:
        """The tile level whose bottom hashes this resource covers (entries: level 0)."""
        return 0 if self.level is None else self.level


def encode_index(n: int) -> str:
    """``<N>``: zero-padded 3-digit path elements, all but the last starting with ``x``."""
    if n < 0:
        raise ValueError(f"a tile index is non-negative, got {n}")
    groups: list[str] = []
    while True:
        n, digits = divmod(n, 1000)
        groups.append(f"{digits:03d}")
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def parse_path(path: str) -> TileRef:
    """The resource a path below the prefix names; only the canonical spelling is accepted
    (so that each resource has one name, and one cache entry)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TilePathError(f"{path!r} is not tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    level: int | None
    if parts[1] == "entries":
        level = None
    elif _DECIMAL.match(parts[1]) and int(parts[1]) <= MAX_LEVEL:
        level = int(parts[1])
    else:
        raise TilePathError(f"tile level {parts[1]!r} is not a decimal 0..{MAX_LEVEL}")
    rest = parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _DECIMAL.match(w) or not 1 <= int(w) < TILE_WIDTH:
            raise TilePathError(f"partial width {w!r} is not a decimal 1..{TILE_WIDTH - 1}")
        width = int(w)
        rest = [*rest[:-2], rest[-2][: -len(".p")]]
    if not _LAST.match(rest[-1]) or not all(_GROUP.match(g) for g in rest[:-1]):
        raise TilePathError(f"tile index {'/'.join(rest)!r} is not encoded as x001/x234/067")
    index = int("".join(g.lstrip("x") for g in rest))
    ref = TileRef(level, index, width)
    if ref.path != path:
        raise TilePathError(f"{path!r} is not canonical: expected {ref.path!r}")
    return ref


def covered_width(checkpoint_size: int, ref: TileRef) -> int:
    """How many hashes (or entries) of ``ref``'s tile a checkpoint of this size covers."""
    return tile_width(checkpoint_size, ref.hash_level, ref.index)


def available(checkpoint_size: int, ref: TileRef) -> bool:
    """Whether ``ref`` may be served under a checkpoint of this size: a full tile once all its
    256 hashes are covered, a partial one if its width is covered (any prefix of a covered
    tile is fixed forever, whichever earlier checkpoint a client holds)."""
    return covered_width(checkpoint_size, ref) >= ref.width


def tiles_for(size: int) -> list[TileRef]:
    """Every hash tile and entry bundle a tiles client may need for a tree of ``size``:
    full tiles plus the partial tiles of this size, bottom level first."""
    out: list[TileRef] = []
    level = 0
    while (nodes := size >> (TILE_HEIGHT * level)) > 0:
        for index in range((nodes + TILE_WIDTH - 1) // TILE_WIDTH):
            width = min(TILE_WIDTH, nodes - index * TILE_WIDTH)
            out.append(TileRef(level, index, width))
            if level == 0:
                out.append(TileRef(None, index, width))
        level += 1
    return out


def encode_bundle(first_index: int, entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry's leaf data after its big-endian uint16 length."""
    out = bytearray()
    for offset, data in enumerate(entries):
        if len(data) > MAX_BUNDLED_ENTRY_BYTES:
            raise BundleEntryTooLarge(first_index + offset, len(data))
        out += len(data).to_bytes(2, "big")
        out += data
    return bytes(out)

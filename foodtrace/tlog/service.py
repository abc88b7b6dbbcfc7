"""Reading tlog-tiles resources out of the stored log.

Hash tiles are the bottom level of the stored tiles (:mod:`foodtrace.trace.layout`), entry
bundles the stored leaf data; :mod:`foodtrace.trace.tlog_tiles` decides what may be served.
The bound is always the latest signed checkpoint: entries appended after it are not served,
so a cached full tile can never disagree with a later checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import LogEntry, LogTile
from foodtrace.trace import layout, tlog_tiles
from foodtrace.trace.merkle import HASH_SIZE
from foodtrace.trace.tlog_tiles import TileRef


class TileNotFound(LookupError):
    """The resource is beyond every signed checkpoint (or the log has none yet)."""


@dataclass(frozen=True)
class TileBody:
    """A resource's bytes and whether they may be cached forever."""

    content: bytes
    immutable: bool


def current_checkpoint(log: MerkleLog) -> SignedCheckpoint:
    """The checkpoint a tiles client should start from: signed at the current size (the log
    signs a new one only when it grew since the latest)."""
    return log.issue_checkpoint()


def read(log: MerkleLog, ref: TileRef, checkpoint: SignedCheckpoint | None = None) -> TileBody:
    """The bytes of a hash tile or entry bundle covered by ``checkpoint`` (default: the
    latest stored one); raises :class:`TileNotFound` otherwise and
    :class:`~foodtrace.trace.tlog_tiles.BundleEntryTooLarge` for an unencodable bundle."""
    cp = checkpoint if checkpoint is not None else log.latest_checkpoint()
    [(_, content)] = read_many(log, [ref], cp)
    return TileBody(content, immutable=not ref.is_partial)


def read_many(
    log: MerkleLog, refs: Sequence[TileRef], checkpoint: SignedCheckpoint | None
) -> Iterator[tuple[TileRef, bytes]]:
    """The bytes of many resources, in their order, with one query per run of neighbours of
    one level (``foodtrace tlog export`` reads thousands). Checks all of them first."""
    if checkpoint is None:
        raise TileNotFound("the log has signed no checkpoint yet")
    for ref in refs:
        if not tlog_tiles.available(checkpoint.size, ref):
            covered = tlog_tiles.covered_width(checkpoint.size, ref)
            raise TileNotFound(
                f"{ref.path} is beyond the latest checkpoint (size {checkpoint.size}), which "
                f"covers {covered} of that tile's {ref.width} hashes"
            )
    pos = 0
    while pos < len(refs):
        run = [refs[pos]]
        limit = BUNDLES_PER_QUERY if run[0].is_entries else TILES_PER_QUERY
        while (
            pos + len(run) < len(refs)
            and len(run) < limit
            and refs[pos + len(run)].level == run[0].level
            and refs[pos + len(run)].index == run[-1].index + 1
        ):
            run.append(refs[pos + len(run)])
        contents = _entries(log, run) if run[0].is_entries else _hashes(log, run)
        yield from zip(run, contents, strict=True)
        pos += len(run)


# A run of neighbouring resources read in one query: 64 tiles are about 1 MB; 8 bundles of
# the largest entries (64 KiB each) about 128 MB, of typical ones well under 1 MB.
TILES_PER_QUERY = 64
BUNDLES_PER_QUERY = 8


def _hashes(log: MerkleLog, run: list[TileRef]) -> list[bytes]:
    level = run[0].hash_level
    with log.engine.connect() as conn:
        rows = conn.execute(
            select(LogTile.idx, LogTile.width, LogTile.hashes).where(
                LogTile.level == level,
                LogTile.idx >= run[0].index,
                LogTile.idx <= run[-1].index,
            )
        ).all()
    stored = {r.idx: (r.width, r.hashes) for r in rows}
    out: list[bytes] = []
    for ref in run:
        width, blob = stored.get(ref.index, (0, b""))
        if width < ref.width:
            raise RuntimeError(f"stored tile {level}/{ref.index} is missing or too narrow")
        out.append(bytes(blob[: ref.width * HASH_SIZE]))
    return out


def _entries(log: MerkleLog, run: list[TileRef]) -> list[bytes]:
    start = run[0].index * layout.TILE_WIDTH
    stop = run[-1].index * layout.TILE_WIDTH + run[-1].width
    with log.engine.connect() as conn:
        rows = conn.execute(
            select(LogEntry.leaf_index, LogEntry.data)
            .where(LogEntry.leaf_index >= start, LogEntry.leaf_index < stop)
            .order_by(LogEntry.leaf_index)
        ).all()
    if len(rows) != stop - start or (rows and rows[-1].leaf_index != stop - 1):
        raise RuntimeError(f"entries {start}..{stop - 1} are not all stored")
    out: list[bytes] = []
    for ref in run:
        first = ref.index * layout.TILE_WIDTH - start
        datas = (bytes(r.data) for r in rows[first : first + ref.width])
        out.append(tlog_tiles.encode_bundle(start + first, datas))
    return out


CHECKPOINT_CACHE_CONTROL = "public, max-age=5"
"""The checkpoint changes as the log grows: caches may keep it a few seconds at most."""
PARTIAL_CACHE_CONTROL = "public, max-age=60"
"""A partial tile never changes, but is dropped once its full tile is served: short-lived."""
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
"""A full tile or bundle covered by a checkpoint never changes."""


def cache_control(body: TileBody) -> str:
    return IMMUTABLE_CACHE_CONTROL if body.immutable else PARTIAL_CACHE_CONTROL

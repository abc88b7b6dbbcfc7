"""Reading tlog-tiles resources out of the stored log.

Hash tiles are the bottom level of the stored tiles (:mod:`foodtrace.trace.layout`), entry
bundles the stored leaf data; :mod:`foodtrace.trace.tlog_tiles` decides what may be served.
The bound is always the latest signed checkpoint: entries appended after it are not served,
so a cached full tile can never disagree with a later checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from foodtrace.store.log import MerkleLog, SignedCheckpoint
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
    if cp is None:
        raise TileNotFound("the log has signed no checkpoint yet")
    if not tlog_tiles.available(cp.size, ref):
        covered = tlog_tiles.covered_width(cp.size, ref)
        raise TileNotFound(
            f"{ref.path} is beyond the latest checkpoint (size {cp.size}), which covers "
            f"{covered} of that tile's {ref.width} hashes"
        )
    content = _entries(log, ref) if ref.is_entries else _hashes(log, ref)
    return TileBody(content, immutable=not ref.is_partial)


def _hashes(log: MerkleLog, ref: TileRef) -> bytes:
    with log.engine.connect() as conn:
        row = conn.execute(
            select(LogTile.width, LogTile.hashes).where(
                LogTile.level == ref.hash_level, LogTile.idx == ref.index
            )
        ).first()
    if row is None or row.width < ref.width:
        raise RuntimeError(f"stored tile {ref.hash_level}/{ref.index} is missing or too narrow")
    return bytes(row.hashes[: ref.width * HASH_SIZE])


def _entries(log: MerkleLog, ref: TileRef) -> bytes:
    start = ref.index * layout.TILE_WIDTH
    with log.engine.connect() as conn:
        rows = conn.execute(
            select(LogEntry.leaf_index, LogEntry.data)
            .where(LogEntry.leaf_index >= start, LogEntry.leaf_index < start + ref.width)
            .order_by(LogEntry.leaf_index)
        ).all()
    if [r.leaf_index for r in rows] != list(range(start, start + ref.width)):
        raise RuntimeError(f"entries {start}..{start + ref.width - 1} are not all stored")
    return tlog_tiles.encode_bundle(start, (bytes(r.data) for r in rows))


CHECKPOINT_CACHE_CONTROL = "public, max-age=5"
"""The checkpoint changes as the log grows: caches may keep it a few seconds at most."""
PARTIAL_CACHE_CONTROL = "public, max-age=60"
"""A partial tile never changes, but is dropped once its full tile is served: short-lived."""
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
"""A full tile or bundle covered by a checkpoint never changes."""


def cache_control(body: TileBody) -> str:
    return IMMUTABLE_CACHE_CONTROL if body.immutable else PARTIAL_CACHE_CONTROL

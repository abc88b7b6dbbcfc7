"""The log's checkpoints: signed with the log key, stored one per tree size.

:class:`Checkpoints` is the part of :class:`~foodtrace.store.log.MerkleLog` that signs,
stores and reads them and builds proof bundles on them; it reads the tree through the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from foodtrace.config import Settings
from foodtrace.store.appendsql import paramstyle
from foodtrace.trace.bundle import ProofBundle
from foodtrace.trace.checkpoint import Checkpoint, sign_checkpoint, verifier_key


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str
    created_at: datetime | None = None


class Checkpoints:
    """Checkpoint methods of :class:`~foodtrace.store.log.MerkleLog` (a mixin: the log
    provides the attributes and tree reads declared below)."""

    settings: Settings
    origin: str
    engine: Engine
    sqlite: bool
    _key: Ed25519PrivateKey | None

    if TYPE_CHECKING:

        def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def size(self) -> int: ...
        def _check_size(self, size: int | None) -> int: ...
        def root(self, size: int | None = None) -> bytes: ...
        def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...

    @property
    def key(self) -> Ed25519PrivateKey:
        """The log key; created only while no checkpoint was signed (a new key would not
        verify them): afterwards a missing file is a :class:`MissingKeyError`."""
        if self._key is None:
            from foodtrace.store.keyfiles import load_key

            signed = self._query("SELECT COUNT(*) FROM checkpoints")[0][0]
            self._key = load_key(
                self.settings.resolved_log_key_file,
                "log key",
                may_create=not signed,
                depends=f"{signed} checkpoints were signed with it",
            )
        return self._key

    def verifier_key(self) -> str:
        """The log's verifier key ``name+hex+base64`` (name = the log origin)."""
        return verifier_key(self.origin, self.key)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        rows = self._query(
            "SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1"
        )
        return _checkpoint(rows[0]) if rows else None

    def checkpoint_at(self, size: int) -> SignedCheckpoint:
        rows = self._query(
            "SELECT size, root, note, created_at FROM checkpoints WHERE size = ?", (size,)
        )
        if not rows:
            raise LookupError(f"no checkpoint was issued at size {size}")
        return _checkpoint(rows[0])

    def checkpoints(self) -> list[SignedCheckpoint]:
        rows = self._query("SELECT size, root, note, created_at FROM checkpoints ORDER BY size")
        return [_checkpoint(r) for r in rows]

    def issue_checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """Sign and store a checkpoint at the current size, unless the latest one is there.

        ``size``: a checkpoint at that earlier size instead (the one already stored there, if
        any). The anchorer anchors aligned sizes, which may lie below the latest checkpoint;
        checkpoints are kept per size, so a past one sits beside the others."""
        if size is None:
            size = self.size()
            latest = self.latest_checkpoint()
            if latest is not None and latest.size >= size:
                return latest
        else:
            size = self._check_size(size)
            try:
                return self.checkpoint_at(size)
            except LookupError:
                pass
        root = self.root(size)
        note = sign_checkpoint(Checkpoint(self.origin, size, root), self.origin, self.key)
        created = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(
                paramstyle(
                    self.sqlite,
                    "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?,?,?,?) "
                    "ON CONFLICT (size) DO NOTHING",
                ),
                (size, root, note, created.isoformat() if self.sqlite else created),
            )
        return self.checkpoint_at(size)

    def bundle(self, index: int, size: int | None = None) -> ProofBundle:
        """A C2SP proof bundle for ``index`` in the checkpoint at ``size`` (default latest,
        issuing one if the latest does not cover ``index``)."""
        if size is None:
            cp = self.latest_checkpoint()
            if cp is None or cp.size <= index:
                cp = self.issue_checkpoint()
        else:
            cp = self.checkpoint_at(size)
        if index >= cp.size:
            raise IndexError(f"entry {index} is not in the checkpoint of size {cp.size}")
        return ProofBundle(index, tuple(self.inclusion_proof(index, cp.size)), cp.note)


def _checkpoint(row: Sequence[Any]) -> SignedCheckpoint:
    size, root, note, created = row
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return SignedCheckpoint(int(size), bytes(root), note, created)

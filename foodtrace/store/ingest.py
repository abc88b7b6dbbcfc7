"""Ingest signed entries: parse, check the author's key, verify, then append.

Verification is the costly part (Ed25519, ~110 µs an entry), so bulk ingest runs it in a
process pool on every core while the log's writer commits what is already verified. Each
line is its own group: a rejected line changes nothing, and is reported with its line
number and every problem found.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from foodtrace.config import MAX_ENTRY_BYTES
from foodtrace.store import canonical
from foodtrace.store.authors import KeyTable
from foodtrace.store.leaves import Leaves, Meta, Record
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.errors import EntryError, SignatureError

CHUNK_LINES = 512
IN_FLIGHT_PER_WORKER = 4
_public_keys: dict[bytes, Ed25519PublicKey] = {}


def check_line(raw: bytes, table: KeyTable) -> Record:
    """One signed entry, checked against the author keys; raises naming every problem."""
    leaf, meta = _check(raw, table)
    return Record(leaf, hashlib.sha256(b"\x00" + leaf).digest(), *meta)


def _check(raw: bytes, table: KeyTable) -> tuple[bytes, Meta]:
    if len(raw) > MAX_ENTRY_BYTES:
        raise EntryError([("entry", f"is {len(raw)} bytes, the limit is {MAX_ENTRY_BYTES}")])
    try:
        obj, simple = canonical.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EntryError([("entry", f"is not valid JSON: {exc}")]) from exc
    # The envelope is checked by the core; the whole entry is canonicalised once, below.
    entry = entry_mod.validate(obj, check_canonical=False)
    try:
        leaf = canonical.dumps(obj, simple)
    except rfc8785.CanonicalizationError as exc:
        raise EntryError([("body", f"cannot be canonicalised (RFC 8785): {exc}")]) from exc
    # JCS orders the envelope author, body, issued_at, key, sig, type, v: the signed bytes are
    # the leaf data without its "sig" member.
    tail = f',"type":"{entry.type}","v":1}}'.encode()
    sig_part = f',"sig":"{entry.sig}"'.encode()
    if not leaf.endswith(sig_part + tail):
        raise EntryError([("entry", "canonical form has an unexpected member order")])
    signed = leaf[: -len(sig_part + tail)] + tail
    raw_key = table.check(entry.author, entry.key, entry.issued_datetime())
    public = _public_keys.get(raw_key)
    if public is None:
        public = _public_keys[raw_key] = Ed25519PublicKey.from_public_bytes(raw_key)
    try:
        public.verify(base64.b64decode(entry.sig), signed)
    except InvalidSignature:
        raise SignatureError(
            f"signature of author {entry.author} with key {entry.key} does not verify"
        ) from None
    return leaf, (entry.type, entry.author, entry.key, entry.issued_at)


class Checked(NamedTuple):
    """A checked chunk in columns (cheap to pickle back from a worker): the accepted lines'
    leaf data, leaf hashes and indexed fields, and ``(offset in chunk, reason)`` for each
    rejected line."""

    leaves: Leaves
    offsets: list[int]
    rejected: list[tuple[int, str]]


def check_chunk(lines: list[bytes], table: KeyTable) -> Checked:
    """Check lines; accepted ones in columns, the others with the reason they were rejected."""
    datas: list[bytes] = []
    metas: list[Meta] = []
    offsets: list[int] = []
    rejected: list[tuple[int, str]] = []
    same: dict[Meta, Meta] = {}  # one object per distinct meta: pickle sends it once
    for offset, raw in enumerate(lines):
        try:
            leaf, meta = _check(raw, table)
        except (EntryError, SignatureError) as exc:
            rejected.append((offset, str(exc)))
            continue
        datas.append(leaf)
        metas.append(same.setdefault(meta, meta))
        offsets.append(offset)
    hashes = [hashlib.sha256(b"\x00" + d).digest() for d in datas]
    return Checked(Leaves(datas, hashes, metas), offsets, rejected)


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class IngestReport:
    accepted: list[tuple[int, int]] = field(default_factory=list)
    """(line number, log index) of every appended entry."""
    rejected: list[Rejection] = field(default_factory=list)


def _chunks(lines: Iterable[bytes]) -> Iterator[tuple[int, list[bytes]]]:
    chunk: list[bytes] = []
    first = 1
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if not chunk:
            first = number
        chunk.append(line)
        if len(chunk) == CHUNK_LINES:
            yield first, chunk
            chunk = []
    if chunk:
        yield first, chunk


class Ingestor:
    """Verifies and appends signed entries to one log, with a pool of verification workers
    (``workers=0`` verifies in this process). Reuse it across calls: the pool is kept."""

    def __init__(self, log: MerkleLog, workers: int | None = None) -> None:
        self.log = log
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _submit(self, lines: list[bytes], table: KeyTable) -> Future[Checked]:
        if self.workers == 0:
            done: Future[Checked] = Future()
            done.set_result(check_chunk(lines, table))
            return done
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
            # The pool spawns a process per submission only while none is idle: start every
            # worker now (and import this module in it), not one by one while ingesting.
            warm = [self._pool.submit(check_chunk, [], table) for _ in range(self.workers)]
            for f in warm:
                f.result()
        return self._pool.submit(check_chunk, lines, table)

    def ingest(
        self, lines: Iterable[bytes], on_progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Verify and append every line; returns what was accepted and what was rejected."""
        table = KeyTable.load(self.log.engine)
        report = IngestReport()
        checking: deque[tuple[int, Future[Checked]]] = deque()
        appending: deque[tuple[list[int], Future[range]]] = deque()
        window = max(1, self.workers) * IN_FLIGHT_PER_WORKER

        def drain_appends(keep: int) -> None:
            while len(appending) > keep:
                numbers, future = appending.popleft()
                report.accepted += zip(numbers, future.result(), strict=True)
                if on_progress is not None:
                    on_progress(len(numbers))

        def take_checked() -> None:
            first, future = checking.popleft()
            checked = future.result()
            for offset, reason in checked.rejected:
                report.rejected.append(Rejection(first + offset, reason))
            if on_progress is not None and checked.rejected:
                on_progress(len(checked.rejected))
            if checked.offsets:
                numbers = [first + o for o in checked.offsets]
                appending.append((numbers, self.log.submit_leaves(checked.leaves)))
            drain_appends(keep=window)

        for first, chunk in _chunks(lines):
            checking.append((first, self._submit(chunk, table)))
            if len(checking) >= window:
                take_checked()
        while checking:
            take_checked()
        drain_appends(keep=0)
        report.rejected.sort(key=lambda r: r.line)
        return report

"""Audit a stored log from its raw data: nothing stored is trusted.

Every leaf hash is recomputed from the stored leaf data, every stored tile from those
hashes, and every checkpoint's root from the same recomputation (a compact range folded as
the leaves stream past) and its signature with the log key. Each problem names the FIRST
entry index it affects, so a report says from where on the log can no longer be trusted.
Other checks (the ledger's on-chain roots) extend a report with :meth:`AuditReport.with_problems`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from foodtrace.trace import layout
from foodtrace.trace.checkpoint import verify_checkpoint
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

if TYPE_CHECKING:
    from foodtrace.store.checkpoints import SignedCheckpoint
    from foodtrace.store.log import MerkleLog

AUDIT_CHUNK_ENTRIES = 64 * layout.TILE_WIDTH


@dataclass(frozen=True)
class AuditProblem:
    """One mismatch: ``index`` is the first entry whose proof it breaks."""

    index: int
    kind: str  # "entry", "tile", "checkpoint", or what an extension adds (e.g. "anchor")
    detail: str

    def __str__(self) -> str:
        return f"entry {self.index}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class AuditReport:
    size: int
    checkpoints: int
    problems: tuple[AuditProblem, ...] = ()
    roots: tuple[tuple[int, bytes], ...] = ()
    """Recomputed (size, root) of every stored checkpoint, for checks against other copies."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> AuditProblem | None:
        """The problem affecting the earliest entry."""
        return min(self.problems, key=lambda p: p.index) if self.problems else None

    def with_problems(self, more: list[AuditProblem]) -> AuditReport:
        merged = sorted([*self.problems, *more], key=lambda p: p.index)
        return replace(self, problems=tuple(merged))

    def raise_for_problems(self) -> None:
        if self.problems:
            raise AuditError(self)


class AuditError(Exception):
    def __init__(self, report: AuditReport) -> None:
        self.report = report
        super().__init__(f"audit failed at {report.first} ({len(report.problems)} problem(s))")


def _tile_problem(tile: layout.TileId, width: int, stored: bytes, expected: bytes) -> AuditProblem:
    """Name the first node of a tile whose stored hash differs from the recomputed one."""
    tile_level, tile_index = tile
    for pos in range(max(len(stored), len(expected)) // HASH_SIZE):
        a = stored[pos * HASH_SIZE : (pos + 1) * HASH_SIZE]
        b = expected[pos * HASH_SIZE : (pos + 1) * HASH_SIZE]
        if a != b:
            k = 0
            while k + 1 < layout.TILE_HEIGHT and layout.level_offset(width, k + 1) <= pos:
                k += 1
            offset = pos - layout.level_offset(width, k)
            level = layout.TILE_HEIGHT * tile_level + k
            index = tile_index * (layout.TILE_WIDTH >> k) + offset
            return AuditProblem(
                index << level, "tile", f"stored node ({level}, {index}) does not match its data"
            )
    return AuditProblem(0, "tile", f"tile {tile} differs")  # unreachable: blobs differ


def _check_tiles(
    log: MerkleLog, tile_level: int, first: int, bottoms: list[bytes], problems: list[AuditProblem]
) -> list[bytes]:
    """Compare the stored tiles of one level, starting at tile ``first``, with tiles built from
    recomputed bottom hashes; return the recomputed roots of the full ones."""
    count = (len(bottoms) + layout.TILE_WIDTH - 1) // layout.TILE_WIDTH
    rows = log._query(
        "SELECT idx, width, hashes FROM tiles WHERE level = ? AND idx >= ? AND idx < ?",
        (tile_level, first, first + count),
    )
    stored = {int(i): (int(w), bytes(h)) for i, w, h in rows}
    roots: list[bytes] = []
    for t in range(count):
        bottom = bottoms[t * layout.TILE_WIDTH : (t + 1) * layout.TILE_WIDTH]
        blob, tile_root = layout.build_tile(bottom)
        if tile_root is not None:
            roots.append(tile_root)
        tile = (tile_level, first + t)
        got = stored.get(first + t)
        first_leaf = (first + t) << (layout.TILE_HEIGHT * (tile_level + 1))
        if got is None:
            problems.append(AuditProblem(first_leaf, "tile", f"tile {tile} is missing"))
        elif got[0] != len(bottom):
            problems.append(
                AuditProblem(
                    first_leaf, "tile", f"tile {tile} has width {got[0]}, expected {len(bottom)}"
                )
            )
        elif got[1] != blob:
            problems.append(_tile_problem(tile, len(bottom), got[1], blob))
    return roots


def audit(log: MerkleLog) -> AuditReport:
    """Recompute the whole log from its stored data and report every mismatch."""
    size = log.size()
    problems: list[AuditProblem] = []
    checkpoints = log.checkpoints()
    wanted = sorted({c.size for c in checkpoints if 0 < c.size <= size})
    roots: dict[int, bytes] = {}
    roots[0] = EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []
    upper: list[bytes] = []  # recomputed roots of full level-0 tiles
    expected = 0
    while expected < size:
        rows = log._query(
            "SELECT leaf_index, data, type, author, key_id, issued_at FROM entries "
            "WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
            (expected, AUDIT_CHUNK_ENTRIES),
        )
        hashes: list[bytes] = []
        chunk_start = expected
        for index, data, type_, author, key, issued_at in rows:
            if index != expected:
                break
            data = bytes(data)
            h = leaf_hash(data)
            try:
                obj = json.loads(data)
                fields = (obj["type"], obj["author"], obj["key"], obj["issued_at"])
            except (ValueError, KeyError, TypeError):
                fields = None
            if fields != (type_, author, key, issued_at):
                problems.append(
                    AuditProblem(index, "entry", "stored columns do not match the entry's data")
                )
            hashes.append(h)
            expected += 1
            level, cur = 0, h
            while stack and stack[-1][0] == level:
                cur = node_hash(stack.pop()[1], cur)
                level += 1
            stack.append((level, cur))
            if wanted and expected == wanted[0]:
                wanted.pop(0)
                acc = stack[-1][1]
                for _, left in reversed(stack[:-1]):
                    acc = node_hash(left, acc)
                roots[expected] = acc
        if len(hashes) < min(len(rows), AUDIT_CHUNK_ENTRIES) or not rows:
            problems.append(AuditProblem(expected, "entry", f"entry {expected} is missing"))
            upper = []  # tiles above a gap cannot be recomputed
            break
        upper += _check_tiles(log, 0, chunk_start // layout.TILE_WIDTH, hashes, problems)
    tile_level = 1
    while len(upper) > 0:
        upper = _check_tiles(log, tile_level, 0, upper, problems)
        tile_level += 1
    expected_tiles = {t for t, _ in layout.tiles_of(size)}
    for level, idx in log._query("SELECT level, idx FROM tiles"):
        if (int(level), int(idx)) not in expected_tiles:
            first_leaf = int(idx) << (layout.TILE_HEIGHT * (int(level) + 1))
            problems.append(
                AuditProblem(
                    min(first_leaf, size), "tile", f"tile ({level}, {idx}) is beyond the log"
                )
            )
    _check_checkpoints(log, checkpoints, roots, size, problems)
    return AuditReport(
        size,
        len(checkpoints),
        tuple(sorted(problems, key=lambda p: p.index)),
        tuple(sorted(roots.items())),
    )


def _check_checkpoints(
    log: MerkleLog,
    checkpoints: list[SignedCheckpoint],
    roots: dict[int, bytes],
    size: int,
    problems: list[AuditProblem],
) -> None:
    """A bad checkpoint affects the entries it was first to vouch for: from the previous
    checkpoint's size on."""
    vkey = log.verifier_key()
    data_problems = list(problems)
    previous = 0
    for cp in checkpoints:
        first = min(previous, size)
        previous = cp.size
        if cp.size > size:
            problems.append(AuditProblem(size, "checkpoint", f"checkpoint {cp.size} is beyond"))
            continue
        try:
            stated = verify_checkpoint(cp.note, [vkey])
        except VerificationError as exc:
            problems.append(AuditProblem(first, "checkpoint", f"checkpoint {cp.size}: {exc}"))
            continue
        recomputed = roots.get(cp.size)
        if stated.origin != log.origin or stated.size != cp.size:
            detail = f"note states {stated.origin} size {stated.size}"
            problems.append(AuditProblem(first, "checkpoint", f"checkpoint {cp.size}: {detail}"))
        elif stated.root != cp.root:
            detail = f"checkpoint {cp.size}: stored root differs from the signed note"
            problems.append(AuditProblem(first, "checkpoint", detail))
        elif recomputed != cp.root:
            # The signed root is intact, so the data under it changed: blame the earliest
            # altered entry already found, if any.
            blame = min((p.index for p in data_problems if p.index < cp.size), default=first)
            detail = f"checkpoint {cp.size}: signed root differs from the stored data"
            problems.append(AuditProblem(blame, "checkpoint", detail))

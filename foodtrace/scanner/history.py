"""Consistency with what this client saw: the defence against a server showing two
histories.

Each checkpoint a server proves records in is held against the newest one this client saw of
that log (kept in the state file across runs): the same size must have the same root, and
different sizes must be tied by a verified consistency proof. When the resolver also sends its
latest checkpoint with a proof from the records' checkpoint, that latest tree is the one held
against the state, so a fork beyond the anchor shows at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from foodtrace.scanner.authors import Evidence
from foodtrace.scanner.client import Server, ServerError
from foodtrace.scanner.state import ScanState, SeenCheckpoint
from foodtrace.scanner.steps import FAILED, OK, Step
from foodtrace.trace.checkpoint import Checkpoint
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.merkle import verify_consistency
from foodtrace.trace.verify import StepError


class HistoryForkError(StepError):
    """The server's checkpoint is not consistent with one this client saw before."""

    step = "consistency"


class History:
    """The checkpoints this client saw (``state``), checked and extended by each record's
    consistency step. ``verify_checkpoint`` is the scanner's one trusted checkpoint check.
    ``tied`` holds the (size, root, size, root) pairs a verified consistency proof ties
    (shared by the run's scanners with the same pins); what was checked against ``state``
    is this history's own."""

    def __init__(
        self,
        state: ScanState,
        verify_checkpoint: Callable[[str], Checkpoint],
        tied: set[tuple[int, bytes, int, bytes]] | None = None,
    ) -> None:
        self.state = state
        self.verify_checkpoint = verify_checkpoint
        self._consistent: set[tuple[int, bytes]] = set()
        self._tied = tied if tied is not None else set()
        self._seen_lock = threading.Lock()

    def step(self, evidence: Evidence, note: str) -> Step:
        try:
            cp, note = self._served_head(evidence, self.verify_checkpoint(note), note)
            with self._seen_lock:  # folders are scanned in parallel
                detail = self._check_seen(evidence.server, cp, note)
        except StepError as exc:
            return Step("consistency", FAILED, exc.reason)
        except (VerificationError, ServerError) as exc:
            return Step("consistency", FAILED, str(exc))
        return Step("consistency", OK, detail)

    def _served_head(self, evidence: Evidence, cp: Checkpoint, note: str) -> tuple[Checkpoint, str]:
        """The server's latest checkpoint when it came with a proof that ``cp`` (the one a
        record is proved in) is a prefix of it; else ``cp``. The newest tree the server
        commits to is the one to hold against what this client saw (a fork shows there)."""
        resolved = evidence.resolved
        if resolved is None or not resolved.latest or cp.size not in resolved.latest_consistency:
            return cp, note
        head = self.verify_checkpoint(resolved.latest)
        if (cp.size, cp.root, head.size, head.root) not in self._tied:
            try:
                proof = resolved.latest_consistency[cp.size]
                verify_consistency(cp.size, head.size, proof, cp.root, head.root)
            except VerificationError as exc:
                raise HistoryForkError(
                    f"the server's latest tree of size {head.size} is not consistent with its "
                    f"tree of size {cp.size} the record is proved in: {exc}"
                ) from exc
            self._tied.add((cp.size, cp.root, head.size, head.root))
        return head, resolved.latest

    def _check_seen(self, server: Server, cp: Checkpoint, note: str) -> str:
        seen = self.state.checkpoints.get(cp.origin)
        if seen is None:
            self.state.checkpoints[cp.origin] = SeenCheckpoint.of(cp, note)
            return f"first checkpoint seen of {cp.origin} (size {cp.size}), remembered"
        if (cp.size, cp.root) in self._consistent:
            return f"size {cp.size} consistent with size {seen.size} seen before"
        if cp.size == seen.size:
            if cp.root != seen.root:
                raise HistoryForkError(
                    f"the server's tree of size {cp.size} has root {cp.root.hex()}, but this "
                    f"client saw root {seen.root.hex()} at that size: two histories"
                )
        else:
            (s1, r1), (s2, r2) = sorted(((cp.size, cp.root), (seen.size, seen.root)))
            try:
                proof = server.consistency(s1, s2)
                verify_consistency(s1, s2, proof, r1, r2)
            except (VerificationError, ServerError) as exc:
                raise HistoryForkError(
                    f"the server's tree of size {cp.size} is not consistent with the tree of "
                    f"size {seen.size} this client saw before: {exc}"
                ) from exc
            if cp.size > seen.size:
                self.state.checkpoints[cp.origin] = SeenCheckpoint.of(cp, note)
        self._consistent.add((cp.size, cp.root))
        return f"size {cp.size} consistent with size {seen.size} seen before"

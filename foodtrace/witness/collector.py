"""The log collects cosignatures by itself: a background thread per configured witness.

Each thread wakes every ``witness_poll_seconds``, reads the checkpoints the log issued above
the size that witness last cosigned, and submits them in increasing size (so every
checkpoint a page or the anchorer used can gather the witness's cosignature; a witness only
cosigns a tree at least as large as the last one it saw). The consistency proof is from the
last size the witness cosigned, as C2SP tlog-witness asks; a 409 names the size the witness
has and the submission is retried from it (:func:`~foodtrace.witness.collect.submit`).

A dead or slow witness only delays its own thread: requests are bounded by
``witness_timeout_seconds``, failures back off 1, 2, 4, … up to
:data:`BACKOFF_MAX_S` seconds, and nothing here runs on the event loop or holds a lock the
write path takes. Under several workers each one collects; a witness seeing the same
checkpoint twice answers with a cosignature again or a 409, both harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import LogCheckpoint
from foodtrace.witness.collect import Endpoint, Outcome, last_cosigned, submit

BACKOFF_MAX_S = 60.0
ANY_SIZE = 2**62
MAX_PER_PASS = 100  # checkpoints submitted per witness per wake-up (a long backlog drains)
logger = logging.getLogger(__name__)


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed passes in a row (0 after none)."""
    return 0.0 if failures <= 0 else min(2.0 ** (failures - 1), BACKOFF_MAX_S)


def checkpoints_after(
    log: MerkleLog, size: int, limit: int = MAX_PER_PASS
) -> list[SignedCheckpoint]:
    """The log's checkpoints larger than ``size``, smallest first."""
    with Session(log.engine) as session:
        rows = session.execute(
            select(LogCheckpoint.size, LogCheckpoint.root, LogCheckpoint.note)
            .where(LogCheckpoint.size > size)
            .order_by(LogCheckpoint.size)
            .limit(limit)
        ).all()
    return [SignedCheckpoint(int(s), bytes(r), n) for s, r, n in rows]


def collect_pending(log: MerkleLog, ep: Endpoint, http: httpx.Client) -> list[Outcome]:
    """Submit to ``ep`` every checkpoint above the size it last cosigned, smallest first.

    Stops at the first unreachable answer (the rest would fail the same way); a refused
    checkpoint is passed over, so one the witness can no longer take (it has seen a larger
    tree) does not hold back the later ones."""
    outcomes: list[Outcome] = []
    for cp in checkpoints_after(log, last_cosigned(log.engine, ep.name, ANY_SIZE)):
        outcome = submit(log, cp, ep, http)
        outcomes.append(outcome)
        if outcome.status == "unreachable":
            break
    return outcomes


@dataclass
class WitnessStatus:
    """What the collector knows of one witness, for logs and health pages."""

    name: str
    failures: int = 0
    last: Outcome | None = None


class WitnessCollector:
    """One daemon thread per witness endpoint, started and stopped with the app."""

    def __init__(
        self,
        log: MerkleLog,
        endpoints: Sequence[Endpoint],
        *,
        poll_s: float = 2.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.log = log
        self.endpoints = list(endpoints)
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.status = {ep.name: WitnessStatus(ep.name) for ep in self.endpoints}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for ep in self.endpoints:
            t = threading.Thread(
                target=self._run, args=(ep,), name=f"witness {ep.name}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout_s * 2 + 1)

    def _run(self, ep: Endpoint) -> None:
        status = self.status[ep.name]
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 3.0))
        with httpx.Client(timeout=timeout, follow_redirects=False) as http:
            while not self._stop.is_set():
                try:
                    outcomes = collect_pending(self.log, ep, http)
                except Exception:  # a database hiccup must not end the thread
                    logger.exception("witness %s: collection pass failed", ep.name)
                    outcomes = [Outcome(ep.name, 0, "unreachable", "collection pass failed")]
                if outcomes:
                    status.last = outcomes[-1]
                    if outcomes[-1].status == "cosigned":
                        status.failures = 0
                    else:
                        status.failures += 1
                        o = outcomes[-1]
                        logger.warning(
                            "witness %s did not cosign size %d (%s): %s; retry in %.0f s",
                            ep.name,
                            o.size,
                            o.status,
                            o.detail,
                            backoff(status.failures),
                        )
                self._stop.wait(max(self.poll_s, backoff(status.failures)))


def from_settings(
    log: MerkleLog, witnesses: str, poll_s: float, timeout_s: float
) -> WitnessCollector | None:
    """The collector for ``FOODTRACE_WITNESSES`` (None when no witness is configured)."""
    from foodtrace.witness.collect import parse_endpoints

    endpoints = parse_endpoints(witnesses)
    if not endpoints:
        return None
    return WitnessCollector(log, endpoints, poll_s=poll_s, timeout_s=timeout_s)

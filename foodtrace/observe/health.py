"""What ``/healthz`` and ``/metrics`` report about the database, the chain, the sequencer and
the anchoring lag.

Probes are cheap and bounded: one indexed query each for the database and the anchor lag;
the chain is asked at most once per :data:`CHAIN_PROBE_TTL_S` (one JSON-RPC call with a
short timeout), whatever the probe rate. Callers run these in the thread pool, never on the
event loop.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.ledger.models import FINAL, Anchor, Deployment
from foodtrace.observe import logs
from foodtrace.sequencer.client import SequencedLog
from foodtrace.sequencer.election import SEQUENCER_ROLE, current_holder
from foodtrace.store.log import MerkleLog

if TYPE_CHECKING:
    from foodtrace.ledger.anchorer import Anchorer

CHAIN_PROBE_TTL_S = 5.0
CHAIN_PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class AnchorLag:
    """How far the chain is behind the log: entries beyond the latest final anchor, and
    seconds since that anchor became final while entries wait (0 when none wait; None when
    entries wait and nothing was ever anchored)."""

    entries: int
    seconds: float | None

    def as_json(self) -> dict[str, Any]:
        seconds = None if self.seconds is None else round(self.seconds, 3)
        return {"entries": self.entries, "seconds": seconds}


def anchor_lag(
    log_size: int, anchored_size: int, anchored_at: datetime | None, now: datetime
) -> AnchorLag:
    entries = max(0, log_size - anchored_size)
    if entries == 0:
        return AnchorLag(0, 0.0)
    if anchored_at is None:
        return AnchorLag(entries, None)
    return AnchorLag(entries, max(0.0, (now - anchored_at).total_seconds()))


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def read_anchor_lag(log: MerkleLog, now: datetime | None = None) -> AnchorLag:
    """The lag against the latest final anchor of a live (not retired) deployment."""
    with Session(log.engine) as session:
        row = session.execute(
            select(Anchor.tree_size, Anchor.final_at)
            .join(Deployment, Deployment.id == Anchor.deployment_id)
            .where(Anchor.status == FINAL, Deployment.retired_at.is_(None))
            .order_by(Anchor.tree_size.desc())
            .limit(1)
        ).first()
    size, at = (row.tree_size, _aware(row.final_at)) if row else (0, None)
    return anchor_lag(log.size(), size, at, now or datetime.now(UTC))


def database(log: MerkleLog) -> dict[str, Any]:
    """Raises if the database does not answer (the caller turns that into a 503)."""
    with log.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"reachable": True, "dialect": log.engine.dialect.name}


def sequencer(log: MerkleLog, anchorer: Anchorer | None) -> dict[str, Any]:
    """Who writes the log: this process's writer thread, or (``FOODTRACE_SEQUENCER`` on
    PostgreSQL) the elected sequencer that integrates every worker's queued groups. Anchoring
    is done by whichever process holds the anchoring lock."""
    if anchorer is None:
        anchoring = "not run by this process"
    elif anchorer.lock.held:
        anchoring = "this process holds the anchoring lock"
    else:
        anchoring = "another process holds the anchoring lock (this one idles)"
    writer = "this process"
    if isinstance(log, SequencedLog):
        with log.engine.connect() as conn:
            elected = current_holder(conn, SEQUENCER_ROLE)
        writer = (
            f"the elected sequencer ({elected[1]}, epoch {elected[0]})"
            if elected
            else ("the elected sequencer (none elected yet)")
        )
    return {
        "writer": writer,
        "pid": os.getpid(),
        "writer_running": log.writer_running(),
        "queued": log.queued(),
        "anchoring": anchoring,
    }


class ChainProbe:
    """The chain's reachability and block number, cached for :data:`CHAIN_PROBE_TTL_S`.

    An external chain is asked over JSON-RPC. The embedded chain is a file only one process
    may open, so it is read through this process's anchorer if that has it open, and
    otherwise reported as not open here rather than opened by a health probe.
    """

    def __init__(
        self,
        settings: Settings,
        anchorer: Anchorer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.anchorer = anchorer
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None

    def status(self) -> dict[str, Any]:
        with self._lock:  # concurrent probes wait for one chain call instead of each making one
            now = self.clock()
            if self._cached is None or now - self._cached[0] >= CHAIN_PROBE_TTL_S:
                self._cached = (now, self._probe())
            return self._cached[1]

    def _probe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "rpc" if self.settings.chain_url else "embedded"}
        try:
            block = self._block_number()
        except Exception as exc:
            out.update(
                reachable=False, error=logs.redact_url_password(f"{type(exc).__name__}: {exc}")
            )
        else:
            if block is None:
                out.update(reachable=None, detail="the embedded chain is not open in this process")
            else:
                out.update(reachable=True, block_number=block)
        anchorer = self.anchorer
        if anchorer is not None and anchorer.failures:
            error = logs.redact_url_password(str(anchorer.last_error))
            out.update(anchor_failures=anchorer.failures, anchor_error=error)
        return out

    def _block_number(self) -> int | None:
        if self.settings.chain_url:
            from web3 import Web3

            provider = Web3.HTTPProvider(
                self.settings.chain_url, request_kwargs={"timeout": CHAIN_PROBE_TIMEOUT_S}
            )
            return int(Web3(provider).eth.block_number)
        chain = self.anchorer.chain if self.anchorer is not None else None
        if chain is None:
            return None
        return int(chain.w3.eth.block_number)

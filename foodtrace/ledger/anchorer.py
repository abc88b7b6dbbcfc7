"""The anchorer: publishes the log's checkpoints to TraceAnchor, and keeps them published.

Decisions are pure functions over plain values (:func:`anchor_due`, :func:`anchor_size`,
:func:`classify`, :func:`backoff_delay`, :func:`check_chain_prefix`); :class:`Anchorer` is the
shell that reads the log, the chain and the journal (``anchors`` table), applies them and
records the result.

Anchored sizes are multiples of ``2**anchor_align_bits`` whenever one is available, because
the contract pays for every hash of the consistency proof from the previous anchor, and a
proof from a size with ``t`` trailing zero bits has at most ``bitlen(new - 1) - t + 1``
hashes (11 at a million entries with 10 bits, against 21 from an arbitrary size).

The chain is the authority. Each cycle reads the contract's latest (size, root) and proves the
next anchor from THAT size, never from the journal: after a re-org or a node that lost its
state, the journal is ahead of the chain, and the anchors it remembers beyond the chain's
latest are sent again in order, so the anchored sizes have no gap. An anchor is ``final``
once ``anchor_confirmations`` blocks sit on top of its block (the embedded chain has a single
node and cannot re-org, so there it is final at once).

Several processes may run an anchorer on one database; only the holder of the anchoring lock
(PostgreSQL advisory lock, or a file lock beside a SQLite file) acts, the others idle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import Engine, event, make_url, select
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.ledger.chain import Chain, ChainError
from foodtrace.ledger.contract import AnchoredRoot, TraceAnchor, TxSummary, log_id
from foodtrace.ledger.deployment import (
    MissingContractError,
    ensure_deployment,
    missing_contract,
)
from foodtrace.ledger.models import FINAL, LOST, SUBMITTED, Anchor, Deployment
from foodtrace.sequencer.election import Election
from foodtrace.store import db
from foodtrace.store.log import MerkleLog
from foodtrace.trace.logkey import log_key_hash

log_ = logging.getLogger(__name__)

ANCHOR_LOCK_KEY = 0x46545F414E43  # "FT_ANC": PostgreSQL advisory lock of the one anchorer
ANCHORER_ROLE = "anchorer"
BACKOFF_BASE_S = 1.0


class ForkError(ChainError):
    """The chain holds a root our log does not have at that size: the log was rewritten (or
    the contract anchors another log). The anchorer stops rather than paper over it."""


# -- pure decisions ---------------------------------------------------------------------------


def anchor_due(
    log_size: int,
    chain_size: int,
    seconds_since_last: float | None,
    every_entries: int,
    every_seconds: float,
) -> bool:
    """Is a new anchor due? Only if the log grew past the chain's latest, and then either
    ``every_entries`` new entries piled up or ``every_seconds`` passed since the last anchor
    (``None``: never anchored, so at once)."""
    if log_size <= chain_size:
        return False
    if log_size - chain_size >= every_entries or seconds_since_last is None:
        return True
    return seconds_since_last >= every_seconds


def anchor_size(
    log_size: int,
    chain_size: int,
    seconds_since_last: float | None,
    every_entries: int,
    every_seconds: float,
    align_bits: int,
) -> int | None:
    """The tree size to anchor now, or None: the largest multiple of ``2**align_bits`` that is
    at most ``log_size`` and above ``chain_size``, once it carries ``every_entries`` new
    entries or the time trigger is due (``seconds_since_last`` None or past
    ``every_seconds``).

    Freshness wins over gas: when the time trigger is due and no aligned size lies above the
    chain's (a slow log, or the first anchor), the exact ``log_size`` is anchored, and the
    proof from that size to the next anchor may then be up to ``align_bits`` hashes longer.
    When the time trigger picks an aligned size, at most ``2**align_bits - 1`` entries wait
    for the next trigger. ``align_bits = 0`` is :func:`anchor_due` at the exact size.
    """
    if log_size <= chain_size:
        return None
    aligned = log_size >> align_bits << align_bits
    if anchor_due(aligned, chain_size, seconds_since_last, every_entries, every_seconds):
        return aligned
    time_due = seconds_since_last is None or seconds_since_last >= every_seconds
    return log_size if time_due else None


def classify(
    tree_size: int,
    root: bytes,
    block_number: int | None,
    block_hash: bytes | None,
    on_chain: AnchoredRoot | None,
    canonical_hash: bytes | None,
    head: int,
    confirmations: int,
) -> str:
    """The state of a journaled anchor given what the chain says now.

    ``on_chain``: the contract's ``anchorAt`` for the size; ``canonical_hash``: the hash of the
    chain's block at the recorded number (None if there is none). Returns ``"lost"`` (not on
    chain: send again), ``"moved"`` (on chain, but in another block than recorded: re-read
    its transaction), ``"final"`` or ``"submitted"``.
    """
    if on_chain is None or on_chain.root != root:
        return LOST
    if block_number is None or block_hash is None or canonical_hash != block_hash:
        return "moved"
    if on_chain.block_number != block_number:
        return "moved"
    return FINAL if head - block_number >= confirmations else SUBMITTED


def backoff_delay(failures: int, cap: float, base: float = BACKOFF_BASE_S) -> float:
    """Seconds to wait after ``failures`` consecutive failures: base, 2 base, 4 base ... cap."""
    if failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - 1, 32)))


def check_chain_prefix(chain_size: int, chain_root: bytes, log_root_at_size: bytes) -> None:
    """Refuse to extend a chain whose latest root is not our log's root at that size."""
    if chain_size and chain_root != log_root_at_size:
        raise ForkError(
            f"the contract's latest root at size {chain_size} is 0x{chain_root.hex()}, "
            f"but the log's root at that size is 0x{log_root_at_size.hex()}: run `foodtrace audit`"
        )


def effective_confirmations(chain: Chain, configured: int) -> int:
    """The embedded chain is one node that cannot re-org: its blocks are final when mined."""
    return 0 if chain.embedded is not None else max(0, configured)


# -- the anchoring lock -----------------------------------------------------------------------


class AnchorLock:
    """Held by at most one anchorer per database, non-blocking to try. On PostgreSQL it is
    the sequencer's kind of :class:`~foodtrace.sequencer.election.Election` (advisory lock
    plus an epoch fencing every commit of the anchorer's journal); beside a SQLite file, a
    file lock (one machine)."""

    def __init__(self, url: str) -> None:
        self.url = db.normalize_url(url)
        self.election: Election | None = None
        self._file: FileLock | None = None
        u = make_url(self.url)
        if u.get_backend_name() == "sqlite":
            base = Path(u.database or "foodtrace.db").resolve()
            self._file = FileLock(str(base) + ".anchorer.lock", thread_local=False)
        else:
            self.election = Election(self.url, ANCHORER_ROLE, ANCHOR_LOCK_KEY)

    @property
    def held(self) -> bool:
        if self.election is not None:
            return self.election.held
        return self._file is not None and self._file.is_locked

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.election is not None:
            return self.election.try_acquire()
        assert self._file is not None
        try:
            self._file.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def fence(self, session: Session) -> None:
        """Bind the fencing check to every commit of ``session`` while the lock is held:
        an anchorer that lost its lock connection fails its next journal commit."""
        election = self.election
        if election is None or not election.held:
            return

        def check(s: Session) -> None:
            election.fence(s.connection())

        event.listen(session, "before_commit", check)

    def release(self) -> None:
        if self._file is not None and self._file.is_locked:
            self._file.release()
        if self.election is not None:
            self.election.release()


# -- the shell --------------------------------------------------------------------------------


@dataclass
class CycleResult:
    """What one cycle did: sizes re-sent, the new anchor's size (if any), rows made final."""

    resubmitted: list[int]
    anchored: int | None
    finalized: list[int]


class Anchorer:
    """Anchors ``log`` into the chain that ``connect`` opens (opened only while holding the
    anchoring lock, so the embedded chain's single-process file lock is never contended)."""

    def __init__(
        self,
        log: MerkleLog,
        settings: Settings | None = None,
        connect: Callable[[], Chain] | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        redeploy: bool = False,
    ) -> None:
        from foodtrace.ledger.chain import connect as connect_settings

        self.log = log
        self.settings = settings or log.settings
        self._connect = connect or (lambda: connect_settings(self.settings))
        self._now = clock or (lambda: datetime.now(UTC))
        self.redeploy = redeploy  # only by explicit request: see MissingContractError
        self.lock = AnchorLock(log.url)
        self.chain: Chain | None = None
        self.deployment: Deployment | None = None
        self.failures = 0
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one cycle ------------------------------------------------------------------------

    @property
    def _log_id(self) -> bytes:
        return log_id(self.settings.log_origin)

    def _open(self) -> tuple[Chain, TraceAnchor, Deployment]:
        if self.chain is None:
            self.chain = self._connect()
        if self.deployment is None:
            self.deployment = ensure_deployment(
                self.log.engine,
                self.chain,
                self.settings,
                key_hash=log_key_hash(self.log.verifier_key()),
                redeploy=self.redeploy,
            )
            self.redeploy = False  # one new contract per request, not one per cycle
        address = self.chain.w3.to_checksum_address(self.deployment.contract_address)
        return self.chain, TraceAnchor(self.chain, address), self.deployment

    def run_once(self, force: bool = False) -> CycleResult:
        """Reconcile the journal with the chain, re-send lost anchors, and anchor a new
        checkpoint if one is due, at the size :func:`anchor_size` chooses (``force``: the
        exact current size, whenever the log grew)."""
        chain, contract, dep = self._open()
        if not chain.w3.eth.get_code(contract.address):
            self.deployment = None  # the node lost the contract: a loud error, never a redeploy
            raise missing_contract(chain.chain_id, contract.address)
        log = dep.log_id
        chain_size, chain_root = contract.latest(log)
        confirmations = effective_confirmations(chain, self.settings.anchor_confirmations)
        result = CycleResult([], None, [])
        with Session(db.writer_engine(self.log.engine), expire_on_commit=False) as session:
            self.lock.fence(session)
            rows = list(
                session.scalars(
                    select(Anchor).where(Anchor.deployment_id == dep.id).order_by(Anchor.tree_size)
                )
            )
            session.commit()  # chain calls below run outside any database transaction
            known = {r.tree_size for r in rows}
            if chain_size and chain_size not in known:
                rows.append(self._adopt(session, contract, dep, chain_size, chain_root))
                rows.sort(key=lambda r: r.tree_size)
            head = int(chain.w3.eth.block_number)
            for row in rows:
                if row.status == FINAL and row.tree_size <= chain_size:
                    continue
                state = self._state(contract, row, head, confirmations)
                if state == "moved":
                    self._refresh(contract, row)
                    state = self._state(contract, row, head, confirmations)
                if state == FINAL and row.status != FINAL:
                    row.status, row.final_at = FINAL, self._now()
                    result.finalized.append(row.tree_size)
                elif state == LOST:
                    row.status = LOST
            session.commit()
            if chain_size:
                check_chain_prefix(chain_size, chain_root, self.log.root(chain_size))
            for row in rows:
                if row.status == LOST and row.tree_size > chain_size:
                    self._send(contract, row, chain_size)
                    session.commit()
                    result.resubmitted.append(row.tree_size)
                    chain_size = row.tree_size
            last = max((_aware(r.submitted_at) for r in rows if r.submitted_at), default=None)
            since = None if last is None else (self._now() - last).total_seconds()
            log_size = self.log.size()
            if force:  # the operator asked for what is there now: the exact size
                size = log_size if log_size > chain_size else None
            else:
                size = anchor_size(
                    log_size,
                    chain_size,
                    since,
                    self.settings.anchor_every_entries,
                    self.settings.anchor_every_seconds,
                    self.settings.anchor_align_bits,
                )
            if size is not None:
                cp = self.log.issue_checkpoint(size)
                if cp.size > chain_size:
                    row = Anchor(
                        deployment_id=dep.id,
                        tree_size=cp.size,
                        root=cp.root,
                        status=LOST,
                        submissions=0,
                    )
                    session.add(row)
                    self._send(contract, row, chain_size)
                    session.commit()
                    result.anchored = cp.size
        return result

    def _state(self, contract: TraceAnchor, row: Anchor, head: int, confirmations: int) -> str:
        on_chain = contract.anchor_at(self._log_id, row.tree_size)
        canonical = None
        if row.block_number is not None and row.block_number <= head:
            canonical = bytes(contract.chain.w3.eth.get_block(row.block_number)["hash"])
        return classify(
            row.tree_size,
            row.root,
            row.block_number,
            row.block_hash,
            on_chain,
            canonical,
            head,
            confirmations,
        )

    def _refresh(self, contract: TraceAnchor, row: Anchor) -> None:
        found = contract.find_anchor_tx(self._log_id, row.tree_size)
        if found is not None:
            row.tx_hash, row.block_number, row.block_hash = (
                found.tx_hash,
                found.block_number,
                found.block_hash,
            )
            if row.status == LOST:
                row.status = SUBMITTED

    def _adopt(
        self,
        session: Session,
        contract: TraceAnchor,
        dep: Deployment,
        size: int,
        root: bytes,
    ) -> Anchor:
        """Journal an anchor found on chain but not in the table (we crashed after sending)."""
        row = Anchor(
            deployment_id=dep.id, tree_size=size, root=root, status=SUBMITTED, submissions=1
        )
        found = contract.find_anchor_tx(dep.log_id, size)
        if found is not None:
            row.tx_hash, row.block_number, row.block_hash = (
                found.tx_hash,
                found.block_number,
                found.block_hash,
            )
        row.submitted_at = self._now()
        session.add(row)
        session.flush()
        return row

    def _send(self, contract: TraceAnchor, row: Anchor, chain_size: int) -> TxSummary:
        """Anchor ``row`` with a consistency proof from the chain's latest size."""
        proof = self.log.consistency_proof(chain_size, row.tree_size) if chain_size else []
        summary = contract.anchor(self._log_id, row.tree_size, row.root, proof)
        row.tx_hash = summary.tx_hash
        row.block_number = summary.block_number
        row.block_hash = summary.block_hash
        row.gas_used = summary.gas_used
        row.status = SUBMITTED
        row.submissions = (row.submissions or 0) + 1
        row.submitted_at = self._now()
        log_.info("anchored size %d in block %d", row.tree_size, summary.block_number)
        return summary

    # -- the background thread ------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name="anchorer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self._drop_chain()
        self.lock.release()

    def _drop_chain(self) -> None:
        if self.chain is not None:
            try:
                self.chain.close()
            finally:
                self.chain = None
                self.deployment = None

    def run_forever(self) -> None:
        """Anchor until :meth:`stop`; idle while another process holds the lock; back off
        (capped) while the chain fails. Nothing here raises out of the thread."""
        while not self._stop.is_set():
            if not self.lock.try_acquire():
                self._stop.wait(self.settings.anchor_poll_seconds)
                continue
            try:
                self.run_once()
            except (ForkError, MissingContractError) as exc:
                log_.error("anchoring stopped: %s", exc)
                self.last_error = exc
                self.failures += 1
                self._stop.wait(self.settings.anchor_backoff_max_seconds)
                continue
            except Exception as exc:
                self.failures += 1
                self.last_error = exc
                delay = backoff_delay(self.failures, self.settings.anchor_backoff_max_seconds)
                log_.warning("anchoring failed (%s); retrying in %.1f s", exc, delay)
                if self.chain is not None and self.chain.embedded is None:
                    self.chain = None  # reconnect: the node may come back elsewhere in state
                    self.deployment = None
                self._stop.wait(delay)
                continue
            self.failures = 0
            self._stop.wait(self.settings.anchor_poll_seconds)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def journal(engine: Engine, chain_id: int | None = None) -> list[tuple[Deployment, Anchor]]:
    """Every journaled anchor with its deployment, oldest first (for `foodtrace anchors`)."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(Deployment, Anchor).join(Anchor, Anchor.deployment_id == Deployment.id)
        if chain_id is not None:
            query = query.where(Deployment.chain_id == chain_id)
        return [(d, a) for d, a in session.execute(query.order_by(Deployment.id, Anchor.tree_size))]

"""The anchorer: its pure decisions, and its shell on both chains: anchors every N entries,
reuses its deployment across restarts, re-sends an anchor a re-org or a stateless node
dropped (proving from what the chain has, so no gap), backs off while the chain is down,
waits for confirmations, and is alone on a database (advisory lock / file lock).

The contract's own refusals (unauthorised account, shrinking size, wrong root, forged
consistency proof) are tested in test_contract.py and not repeated here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from anvil import DEV_KEYS, run_anvil
from hypothesis import given
from hypothesis import strategies as st
from ledger_log import grow, make_settings, open_log
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.ledger.anchorer import (
    Anchorer,
    AnchorLock,
    ForkError,
    anchor_due,
    anchor_size,
    backoff_delay,
    check_chain_prefix,
    classify,
    journal,
)
from foodtrace.ledger.chain import Chain, ChainError, connect_embedded, connect_rpc
from foodtrace.ledger.contract import AnchoredRoot, TraceAnchor, deploy, log_id
from foodtrace.ledger.deployment import MissingContractError
from foodtrace.ledger.models import FINAL, LOST, SUBMITTED, Anchor
from foodtrace.ledger.verify import ContractAnchors, audit_chain
from foodtrace.store.db import migrate
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.logkey import log_key_hash
from foodtrace.trace.merkle import consistency_proof

ROOT = b"\x11" * 32
BLOCK_HASH = b"\x22" * 32


# -- pure decisions -----------------------------------------------------------------------------


def test_anchor_due() -> None:
    assert not anchor_due(10, 10, None, 5, 60)  # nothing new
    assert anchor_due(1, 0, None, 5, 60)  # never anchored: at once
    assert anchor_due(15, 10, 1.0, 5, 60)  # N entries piled up
    assert not anchor_due(14, 10, 1.0, 5, 60)
    assert anchor_due(11, 10, 60.0, 5, 60)  # T seconds passed
    assert not anchor_due(11, 10, 59.9, 5, 60)


def test_anchor_size_prefers_aligned_sizes() -> None:
    def size(log: int, chain: int, since: float | None, every: int = 10) -> int | None:
        return anchor_size(log, chain, since, every, 60.0, 2)  # multiples of 4

    assert size(3, 0, None) == 3  # never anchored and nothing aligned: the exact size at once
    assert size(9, 0, None) == 8  # never anchored: the largest aligned size
    assert size(12, 12, 99.0) is None  # nothing new
    assert size(21, 8, 1.0) == 20  # 12 new entries up to 20: aligned, entries trigger
    assert size(19, 8, 1.0) is None  # 11 new entries, but 16 carries only 8: wait for 20
    assert size(19, 8, 60.0) == 16  # time trigger: the aligned size, 3 entries wait
    assert size(10, 8, 59.9) is None
    assert size(10, 8, 60.0) == 10  # time trigger, nothing aligned above 8: the exact size
    assert size(11, 10, 60.0) == 11  # after an exact anchor, still exact while nothing aligns
    assert size(13, 10, 60.0) == 12
    assert size(21, 10, 1.0) == 20  # back on the grid once the entries trigger allows


@given(
    log_size=st.integers(0, 10_000_000),
    chain_size=st.integers(0, 10_000_000),
    since=st.none() | st.floats(0, 120),
    every=st.integers(1, 20_000),
    bits=st.integers(0, 12),
)
def test_anchor_size_is_aligned_or_exact_and_above_the_chain(
    log_size: int, chain_size: int, since: float | None, every: int, bits: int
) -> None:
    size = anchor_size(log_size, chain_size, since, every, 60.0, bits)
    due = anchor_due(log_size, chain_size, since, every, 60.0)
    if size is None:
        # nothing due, or only the entries trigger and the aligned size does not carry enough
        aligned = log_size >> bits << bits
        assert not due or (since is not None and since < 60.0 and aligned - chain_size < every)
        return
    assert due  # never anchors when the exact-size policy would not
    assert chain_size < size <= log_size
    assert size % (1 << bits) == 0 or size == log_size
    if size % (1 << bits):  # exact only when no aligned size lies above the chain's
        assert log_size >> bits << bits <= chain_size
    else:
        assert size == log_size >> bits << bits  # the largest aligned size
    if bits == 0:
        assert size == log_size


def _proof_hashes(old: int, new: int) -> int:
    return len(consistency_proof(old, new, lambda nodes: [bytes(32)] * len(nodes)))


@given(data=st.data(), bits=st.integers(0, 12))
def test_proofs_from_aligned_sizes_are_short(data: st.DataObject, bits: int) -> None:
    """The reason for aligning: from a multiple of 2**k the proof has <= bitlen(n-1) - k + 1
    hashes (RFC 9162: levels above the old size's trailing zeros, plus one seed)."""
    new = data.draw(st.integers((1 << bits) + 1, 10_000_000), label="new")
    old = data.draw(st.integers(1, (new - 1) >> bits), label="old / 2**bits") << bits
    assert _proof_hashes(old, new) <= (new - 1).bit_length() - bits + 1


def test_proofs_from_aligned_sizes_at_a_million() -> None:
    """Exhaustively at 1M: every 2**10-aligned previous size gives <= 11 hashes, while an
    arbitrary one can give 21."""
    new = 1_000_000
    assert max(_proof_hashes(old, new) for old in range(1024, new, 1024)) == 11
    assert _proof_hashes(524_287, new) == 21


def test_classify() -> None:
    here = AnchoredRoot(8, ROOT, 100, 0)

    def state(on_chain: AnchoredRoot | None, canonical: bytes | None, head: int, conf: int) -> str:
        return classify(8, ROOT, 100, BLOCK_HASH, on_chain, canonical, head, conf)

    assert state(None, BLOCK_HASH, 105, 1) == LOST  # the contract does not have it
    assert state(AnchoredRoot(8, b"\x33" * 32, 100, 0), BLOCK_HASH, 105, 1) == LOST
    assert state(here, b"\x44" * 32, 105, 1) == "moved"  # re-org re-included it elsewhere
    assert state(AnchoredRoot(8, ROOT, 101, 0), BLOCK_HASH, 105, 1) == "moved"
    assert state(here, BLOCK_HASH, 100, 1) == SUBMITTED
    assert state(here, BLOCK_HASH, 101, 1) == FINAL
    assert state(here, BLOCK_HASH, 102, 3) == SUBMITTED
    assert state(here, BLOCK_HASH, 103, 3) == FINAL
    assert state(here, BLOCK_HASH, 100, 0) == FINAL


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(n, 10.0) for n in range(7)] == [0, 1, 2, 4, 8, 10, 10]
    assert backoff_delay(10_000, 60.0) == 60.0


def test_check_chain_prefix() -> None:
    check_chain_prefix(0, b"\x00" * 32, ROOT)
    check_chain_prefix(5, ROOT, ROOT)
    with pytest.raises(ForkError, match="size 5"):
        check_chain_prefix(5, ROOT, b"\x55" * 32)


# -- the shell, on both chains --------------------------------------------------------------------


@pytest.fixture
def log(tmp_path: Path) -> Iterator[MerkleLog]:
    with open_log(f"sqlite:///{tmp_path / 'ft.db'}", make_settings(tmp_path)) as log:
        yield log


def _anchorer(
    log: MerkleLog,
    chain: Chain | Callable[[], Chain],
    clock: Callable[[], datetime] | None = None,
    **settings: object,
) -> Anchorer:
    """An anchorer of exact sizes unless ``anchor_align_bits`` is given: most tests here
    check the anchored sizes of tiny logs; test_anchors_aligned_sizes checks the alignment."""
    settings.setdefault("anchor_align_bits", 0)
    connect = chain if callable(chain) else (lambda: chain)
    return Anchorer(
        log, make_settings(log.settings.data_dir, **settings), connect=connect, clock=clock
    )


def _rows(log: MerkleLog) -> list[Anchor]:
    with Session(log.engine) as session:
        return list(session.scalars(select(Anchor).order_by(Anchor.tree_size)))


def _on_chain_sizes(chain: Chain, log: MerkleLog, address: str, sizes: list[int]) -> list[int]:
    reader = ContractAnchors(chain.w3, address, log_id(log.origin))
    return [s for s in sizes if reader.root_at(s) == log.root(s)]


def test_anchors_every_n_entries_and_reuses_its_deployment(chain: Chain, log: MerkleLog) -> None:
    anchorer = _anchorer(log, chain, anchor_every_entries=4)
    assert anchorer.run_once().anchored is None  # empty log: nothing to anchor
    grow(log, 3)
    assert anchorer.run_once().anchored == 3  # first anchor: at once
    grow(log, 6)
    assert anchorer.run_once().anchored is None  # 3 new < 4
    grow(log, 7)
    assert anchorer.run_once().anchored == 7
    assert anchorer.deployment is not None
    address = anchorer.deployment.contract_address

    rows = _rows(log)
    # 3 was made final by the cycle that sent 7 (0 confirmations); 7 waits for the next
    assert [(r.tree_size, r.status) for r in rows] == [(3, FINAL), (7, SUBMITTED)]
    for row in rows:
        assert row.tx_hash and row.block_hash and row.gas_used and row.block_number
        assert row.root == log.root(row.tree_size) == log.checkpoint_at(row.tree_size).root
    anchorer.lock.release()

    again = _anchorer(log, chain)  # a restarted process
    grow(log, 9)
    assert again.run_once(force=True).anchored == 9
    assert again.deployment is not None and again.deployment.contract_address == address
    assert _on_chain_sizes(chain, log, address, [3, 7, 9]) == [3, 7, 9]
    assert audit_chain(log, ContractAnchors(chain.w3, address, log_id(log.origin)), [3, 7, 9]).ok
    again.lock.release()


def test_anchors_aligned_sizes(chain: Chain, log: MerkleLog) -> None:
    """Multiples of 4 here (2 bits): short consistency proofs, exact sizes only when the time
    trigger finds nothing aligned to anchor, and the checkpoint issued at the anchored size
    even when a later one exists."""
    now = [datetime(2025, 3, 1, 8, 0, tzinfo=UTC)]
    anchorer = _anchorer(
        log,
        chain,
        clock=lambda: now[0],
        anchor_every_entries=6,
        anchor_every_seconds=60.0,
        anchor_align_bits=2,
    )
    grow(log, 3)
    assert anchorer.run_once().anchored == 3  # first anchor: at once, nothing aligned yet
    grow(log, 8)
    assert anchorer.run_once().anchored is None  # 8 carries 5 < 6 new entries
    grow(log, 13)
    log.issue_checkpoint()  # someone asked for a checkpoint at 13
    assert anchorer.run_once().anchored == 12
    assert log.checkpoint_at(12).root == log.root(12)
    assert log.latest_checkpoint().size == 13  # type: ignore[union-attr]
    grow(log, 18)
    assert anchorer.run_once().anchored is None  # 6 new, but 16 carries only 4
    grow(log, 20)
    assert anchorer.run_once().anchored == 20
    grow(log, 22)
    assert anchorer.run_once().anchored is None
    now[0] += timedelta(seconds=61)
    assert anchorer.run_once().anchored == 22  # time trigger, nothing aligned: exact
    grow(log, 25)
    now[0] += timedelta(seconds=61)
    assert anchorer.run_once().anchored == 24  # time trigger: back on the grid
    anchorer.lock.release()

    sizes = [3, 12, 20, 22, 24]
    assert [r.tree_size for r in _rows(log)] == sizes
    for row in _rows(log):
        assert row.root == log.checkpoint_at(row.tree_size).root
    assert anchorer.deployment is not None
    address = anchorer.deployment.contract_address
    assert _on_chain_sizes(chain, log, address, sizes) == sizes
    assert audit_chain(log, ContractAnchors(chain.w3, address, log_id(log.origin)), sizes).ok


def test_anchors_every_t_seconds(chain: Chain, log: MerkleLog) -> None:
    """On the anchorer's clock, not the wall's: a loaded machine cannot make it late."""
    now = [datetime(2025, 3, 1, 8, 0, tzinfo=UTC)]
    anchorer = _anchorer(log, chain, clock=lambda: now[0], anchor_every_seconds=0.3)
    grow(log, 2)
    assert anchorer.run_once().anchored == 2
    grow(log, 3)
    now[0] += timedelta(seconds=0.1)
    assert anchorer.run_once().anchored is None
    now[0] += timedelta(seconds=0.25)
    assert anchorer.run_once().anchored == 3
    anchorer.lock.release()


def test_anvil_reverted_anchor_is_resubmitted(anvil_url: str, log: MerkleLog) -> None:
    chain = connect_rpc(anvil_url, DEV_KEYS[0])
    anchorer = _anchorer(log, chain)
    grow(log, 4)
    anchorer.run_once(force=True)
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    grow(log, 9)
    lost = anchorer.run_once(force=True)
    assert lost.anchored == 9
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    assert anchorer.deployment is not None
    contract = TraceAnchor(
        chain, chain.w3.to_checksum_address(anchorer.deployment.contract_address)
    )
    assert contract.latest(log_id(log.origin))[0] == 4  # the anchor at 9 is gone

    grow(log, 12)
    result = anchorer.run_once(force=True)
    assert result.resubmitted == [9]  # sent again, proved from the chain's 4
    assert result.anchored == 12  # and then the new one, proved from 9: no gap
    rows = {r.tree_size: r for r in _rows(log)}
    assert rows[9].submissions == 2  # (same nonce and fields: possibly the same tx hash)
    address = contract.address
    assert _on_chain_sizes(chain, log, address, [4, 9, 12]) == [4, 9, 12]
    anchorer.lock.release()


def test_embedded_node_without_state_is_a_loud_error_then_redeploys_on_request(
    tmp_path: Path, log: MerkleLog
) -> None:
    path = tmp_path / "chain.sqlite"
    chain = connect_embedded(path)
    anchorer = _anchorer(log, lambda: chain)
    for size in (3, 5):
        grow(log, size)
        anchorer.run_once(force=True)
    assert anchorer.deployment is not None
    old_address = anchorer.deployment.contract_address
    chain.close()
    path.unlink()  # the node restarts with no state: the contract and its anchors are gone
    chain = connect_embedded(path)
    anchorer.chain = None
    try:
        grow(log, 8)
        with pytest.raises(MissingContractError, match=old_address) as missing:
            anchorer.run_once(force=True)
        assert "--redeploy" in str(missing.value)
        with pytest.raises(MissingContractError):  # a fresh anchorer does not redeploy either
            _anchorer(log, lambda: chain).run_once(force=True)
        assert len({d.id for d, _ in journal(log.engine)}) == 1  # nothing was deployed
        assert not chain.w3.eth.get_code(chain.w3.to_checksum_address(old_address))

        anchorer.redeploy = True  # `foodtrace anchor --once --redeploy`
        result = anchorer.run_once(force=True)
        assert result.resubmitted == [3, 5] and result.anchored == 8
        assert anchorer.deployment is not None
        address = anchorer.deployment.contract_address
        assert _on_chain_sizes(chain, log, address, [3, 5, 8]) == [3, 5, 8]
        deployments = {d.id: d for d, _ in journal(log.engine)}
        assert len(deployments) == 2  # the vanished one is retired, its anchors copied over
        assert [d.retired_at is None for d in deployments.values()] == [False, True]
        pinned = TraceAnchor(chain, chain.w3.to_checksum_address(address)).log_key_hash(
            log_id(log.origin)
        )
        assert pinned == log_key_hash(log.verifier_key())
    finally:
        anchorer.lock.release()
        chain.close()


def test_a_contract_pinning_another_log_key_is_refused(chain: Chain, log: MerkleLog) -> None:
    contract = TraceAnchor(chain, deploy(chain))
    contract.register_log(log_id(log.origin), log_key_hash(keys.generate()))
    anchorer = _anchorer(log, chain, contract_address=contract.address)
    grow(log, 2)
    try:
        with pytest.raises(ChainError, match="pins log key hash"):
            anchorer.run_once(force=True)
        assert _rows(log) == []
        assert contract.latest(log_id(log.origin)) == (0, b"\x00" * 32)
    finally:
        anchorer.lock.release()


def test_anvil_confirmations(anvil_url: str, log: MerkleLog) -> None:
    chain = connect_rpc(anvil_url, DEV_KEYS[0])
    anchorer = _anchorer(log, chain, anchor_confirmations=3)
    grow(log, 2)
    anchorer.run_once(force=True)
    assert [r.status for r in _rows(log)] == [SUBMITTED]
    for mined in range(1, 4):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        result = anchorer.run_once()
        assert [r.status for r in _rows(log)] == [FINAL if mined == 3 else SUBMITTED]
    assert result.finalized == [2]
    anchorer.lock.release()


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_anvil_unreachable_backs_off_and_resumes_without_gap(
    tmp_path: Path, log: MerkleLog
) -> None:
    state = tmp_path / "anvil-state.json"
    node: dict[str, str] = {}
    anchorer = _anchorer(log, lambda: connect_rpc(node["url"], DEV_KEYS[0]), anchor_every_entries=1)
    try:
        with run_anvil(state) as url:
            node["url"] = url
            anchorer.start()
            grow(log, 3)
            _wait(lambda: [r.tree_size for r in _rows(log)] == [3])
        grow(log, 6)  # the node is down: the anchorer fails, backs off, stays alive
        _wait(lambda: anchorer.failures >= 3)
        assert anchorer._thread is not None and anchorer._thread.is_alive()
        with run_anvil(state) as url:
            node["url"] = url  # back, with its state (and on another port)
            _wait(lambda: [r.tree_size for r in _rows(log)] == [3, 6])
            grow(log, 7)
            _wait(lambda: [r.tree_size for r in _rows(log)] == [3, 6, 7])
            anchorer.stop()
            chain = connect_rpc(url, DEV_KEYS[0])
            assert anchorer.deployment is not None
            address = anchorer.deployment.contract_address
            assert _on_chain_sizes(chain, log, address, [3, 6, 7]) == [3, 6, 7]
    finally:
        anchorer.close()


def test_only_one_anchorer_per_database(tmp_path: Path, log: MerkleLog) -> None:
    chain = connect_embedded(tmp_path / "chain.sqlite")
    first = _anchorer(log, chain, anchor_every_entries=1, anchor_align_bits=1)
    second = _anchorer(log, chain, anchor_every_entries=1, anchor_align_bits=1)
    try:
        first.start()
        second.start()
        for size in (2, 4, 6):
            grow(log, size)
            _wait(lambda size=size: [r.tree_size for r in _rows(log)][-1:] == [size])  # type: ignore[misc]
        assert [first.lock.held, second.lock.held].count(True) == 1
        assert all(r.submissions == 1 for r in _rows(log))
    finally:
        first.stop()
        second.stop()
        first.lock.release()
        second.lock.release()
        chain.close()


def test_anchor_lock_is_exclusive(db_url: str) -> None:
    """PostgreSQL: a session advisory lock; SQLite: a file lock beside the database file."""
    migrate(db_url)  # PostgreSQL: the election's epoch row lives in the database
    a, b = AnchorLock(db_url), AnchorLock(db_url)
    try:
        assert a.try_acquire()
        assert a.try_acquire()  # re-entrant for its holder
        assert not b.try_acquire()
        a.release()
        assert b.try_acquire()
        assert not a.try_acquire()
    finally:
        a.release()
        b.release()

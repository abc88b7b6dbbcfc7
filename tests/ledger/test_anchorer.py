"""The anchorer: its pure decisions, and its shell on both chains: anchors every N entries,
reuses its deployment across restarts, re-sends an anchor a re-org or a stateless node
dropped (proving from what the chain has, so no gap), backs off while the chain is down,
waits for confirmations, and is alone on a database (advisory lock / file lock).

The contract's own refusals (unauthorised account, shrinking size, wrong root, forged
consistency proof) are tested in test_contract.py and not repeated here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from anvil import DEV_KEYS, run_anvil
from ledger_log import grow, make_settings, open_log
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.ledger.anchorer import (
    Anchorer,
    AnchorLock,
    ForkError,
    anchor_due,
    backoff_delay,
    check_chain_prefix,
    classify,
    journal,
)
from foodtrace.ledger.chain import Chain, connect_embedded, connect_rpc
from foodtrace.ledger.contract import AnchoredRoot, TraceAnchor, log_id
from foodtrace.ledger.models import FINAL, LOST, SUBMITTED, Anchor
from foodtrace.ledger.verify import ContractAnchors, audit_chain
from foodtrace.store.log import MerkleLog

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


def _anchorer(log: MerkleLog, chain: Chain | Callable[[], Chain], **settings: object) -> Anchorer:
    connect = chain if callable(chain) else (lambda: chain)
    return Anchorer(log, make_settings(log.settings.data_dir, **settings), connect=connect)


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


def test_anchors_every_t_seconds(chain: Chain, log: MerkleLog) -> None:
    anchorer = _anchorer(log, chain, anchor_every_seconds=0.3)
    grow(log, 2)
    assert anchorer.run_once().anchored == 2
    grow(log, 3)
    assert anchorer.run_once().anchored is None
    time.sleep(0.35)
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


def test_embedded_node_without_state_gets_everything_again(tmp_path: Path, log: MerkleLog) -> None:
    path = tmp_path / "chain.sqlite"
    chain = connect_embedded(path)
    anchorer = _anchorer(log, lambda: chain)
    for size in (3, 5):
        grow(log, size)
        anchorer.run_once(force=True)
    chain.close()
    path.unlink()  # the node restarts with no state: the contract and its anchors are gone
    chain = connect_embedded(path)
    anchorer.chain = None
    try:
        grow(log, 8)
        result = anchorer.run_once(force=True)
        assert result.resubmitted == [3, 5] and result.anchored == 8
        assert anchorer.deployment is not None
        address = anchorer.deployment.contract_address
        assert _on_chain_sizes(chain, log, address, [3, 5, 8]) == [3, 5, 8]
        deployments = {d.id: d for d, _ in journal(log.engine)}
        assert len(deployments) == 2  # the vanished one is retired, its anchors copied over
        assert [d.retired_at is None for d in deployments.values()] == [False, True]
    finally:
        anchorer.lock.release()
        chain.close()


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
    first = _anchorer(log, chain, anchor_every_entries=1)
    second = _anchorer(log, chain, anchor_every_entries=1)
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

"""Verification against the chain, on both chains: each step of ``verify_entry`` fails with
its own error, and ``audit_chain`` finds tampering with any stored entry, tile or checkpoint
row after anchoring, naming the first entry affected — even a rewrite the store's own audit
cannot see (a consistent fork signed with the log key), which only the chain catches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from ledger_log import entry, grow, make_settings, open_log
from sqlalchemy import Connection, text

from foodtrace.ledger.anchorer import Anchorer
from foodtrace.ledger.chain import Chain
from foodtrace.ledger.contract import log_id
from foodtrace.ledger.verify import (
    ChainRootError,
    CheckpointSignatureError,
    ContractAnchors,
    EntryContentError,
    InclusionError,
    LeafHashError,
    audit_chain,
    verify_entry,
)
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import verifier_key

SIZES = (4, 8, 12)


@pytest.fixture
def anchored(chain: Chain, tmp_path: Path) -> Iterator[tuple[MerkleLog, ContractAnchors]]:
    """A log of 12 entries anchored at 4, 8 and 12."""
    with open_log(f"sqlite:///{tmp_path / 'ft.db'}", make_settings(tmp_path)) as log:
        anchorer = Anchorer(log, connect=lambda: chain)
        for size in SIZES:
            grow(log, size)
            assert anchorer.run_once(force=True).anchored == size
        anchorer.lock.release()
        assert anchorer.deployment is not None
        yield (
            log,
            ContractAnchors(chain.w3, anchorer.deployment.contract_address, log_id(log.origin)),
        )


def _verify(log: MerkleLog, reader: ContractAnchors, index: int, size: int, **kw: object) -> None:
    bundle = kw.pop("bundle", log.bundle(index, size))
    data = kw.pop("data", log.record(index).data)
    vkey = kw.pop("vkey", log.verifier_key())
    verify_entry(data, bundle, vkey, reader.w3, reader.address, reader.log, **kw)  # type: ignore[arg-type]


def test_every_anchored_entry_verifies(anchored: tuple[MerkleLog, ContractAnchors]) -> None:
    log, reader = anchored
    steps: list[str] = []
    _verify(log, reader, 5, 8, report=lambda step, _: steps.append(step))
    assert steps == ["entry", "leaf", "inclusion", "checkpoint", "chain"]
    for index in range(12):
        _verify(log, reader, index, min(s for s in SIZES if s > index))


def test_each_step_fails_with_its_own_error(anchored: tuple[MerkleLog, ContractAnchors]) -> None:
    log, reader = anchored
    bundle = log.bundle(5, 8)
    with pytest.raises(EntryContentError):
        _verify(log, reader, 5, 8, data=b'{"v":1}')
    with pytest.raises(LeafHashError):
        _verify(log, reader, 5, 8, expected_leaf_hash=entry(6).leaf_hash())
    with pytest.raises(InclusionError):
        _verify(log, reader, 5, 8, data=entry(99).leaf_data())  # another entry's content
    forged = replace(bundle, proof=(bytes(32), *bundle.proof[1:]))
    with pytest.raises(InclusionError):
        _verify(log, reader, 5, 8, bundle=forged)
    stranger = verifier_key(log.origin, keys.generate())
    with pytest.raises(CheckpointSignatureError):
        _verify(log, reader, 5, 8, vkey=stranger)
    log.issue_checkpoint()
    grow(log, 13)
    log.issue_checkpoint()  # signed, but never anchored
    with pytest.raises(ChainRootError, match="not anchored"):
        _verify(log, reader, 12, 13)
    wrong_chain = ContractAnchors(reader.w3, reader.address, log_id("another/log"))
    with pytest.raises(ChainRootError):
        _verify(log, wrong_chain, 5, 8)


def _flip_blob(table: str, column: str, where: str, offset: int) -> Callable[[Connection], int]:
    """Flip one bit of a stored BLOB at ``offset`` (SQL string functions would make it text)."""

    def tamper(conn: Connection) -> int:
        blob = bytearray(
            conn.execute(text(f"SELECT {column} FROM {table} WHERE {where}")).scalar_one()
        )
        blob[offset] ^= 1
        return conn.execute(
            text(f"UPDATE {table} SET {column} = :b WHERE {where}"), {"b": bytes(blob)}
        ).rowcount

    return tamper


def _sql(statement: str) -> Callable[[Connection], int]:
    return lambda conn: conn.execute(text(statement)).rowcount


TAMPERING: dict[str, tuple[Callable[[Connection], int], int]] = {
    # what is changed, how, and the first entry the audit must name
    "entry data": (_flip_blob("entries", "data", "leaf_index = 6", 40), 6),
    "entry column": (_sql("UPDATE entries SET author = 'farm-666' WHERE leaf_index = 9"), 9),
    "leaf hash in a tile": (_flip_blob("tiles", "hashes", "level = 0 AND idx = 0", 32 * 5), 5),
    "checkpoint note": (
        _sql("UPDATE checkpoints SET note = REPLACE(note, 'log\n8\n', 'log\n9\n') WHERE size = 8"),
        4,
    ),
    "checkpoint deleted": (_sql("DELETE FROM checkpoints WHERE size = 12"), 8),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected_with_the_first_entry(
    anchored: tuple[MerkleLog, ContractAnchors], case: str
) -> None:
    log, reader = anchored
    assert audit_chain(log, reader, SIZES).ok
    tamper, first = TAMPERING[case]
    with log.engine.begin() as conn:
        assert tamper(conn) == 1
    report = audit_chain(log, reader, SIZES)
    assert not report.ok
    assert report.first is not None and report.first.index == first, report.problems


def test_a_resigned_fork_is_caught_by_the_chain_alone(
    anchored: tuple[MerkleLog, ContractAnchors], tmp_path: Path
) -> None:
    """The operator rewrites entry 6, rebuilds every tile and re-signs every checkpoint with
    the log key: the store audit passes, the chain does not."""
    log, reader = anchored
    with open_log(f"sqlite:///{tmp_path / 'fork.db'}", log.settings) as fork:
        for size in SIZES:
            start = fork.size()
            fork.append([entry(n) if n != 6 else entry(666) for n in range(start, size)])
            fork.issue_checkpoint()
        assert fork.root(4) == log.root(4)
        for size in (8, 12):
            assert fork.root(size) != log.root(size)
        assert fork.audit().ok
        report = audit_chain(fork, reader, SIZES)
        assert [p.kind for p in report.problems] == ["anchor"] * 2
        assert report.first is not None and report.first.index == 4  # the anchor range of 6

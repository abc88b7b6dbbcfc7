"""The stored log agrees with the reference tree, commits groups atomically, signs checkpoints."""

from __future__ import annotations

import json
import random
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from foodtrace.store.leaves import Record
from foodtrace.store.log import MerkleLog
from foodtrace.trace import merkle
from foodtrace.trace.entry import Entry
from foodtrace.trace.merkle import MemoryTree


def _records(start: int, n: int) -> list[Record]:
    """Entry-shaped records (unsigned: appending does not verify, ingest does)."""
    at, key = "2025-01-01T00:00:00Z", "0" * 16
    return [
        Record.from_data(
            json.dumps(
                {"author": "a", "issued_at": at, "key": key, "type": "event", "i": i}
            ).encode(),
            "event",
            "a",
            key,
            at,
        )
        for i in range(start, start + n)
    ]


def test_proofs_match_the_reference_tree(log: MerkleLog) -> None:
    records = _records(0, 5000)
    log.append(records[:1])
    log.append_many([[r] for r in records[1:4000]], chunk_entries=700)
    for f in [log.submit(records[i : i + 7]) for i in range(4000, 5000, 7)]:
        f.result()
    tree = MemoryTree([r.hash for r in records])
    assert log.size() == 5000
    rng = random.Random(7)
    checks = [(0, 1), (4999, 5000), (255, 256), (256, 257), (4095, 4096)]
    checks += [(rng.randrange(s), s) for s in (rng.randint(1, 5000) for _ in range(150))]
    for index, size in checks:
        proof = log.inclusion_proof(index, size)
        assert proof == merkle.inclusion_proof(index, size, tree.read)
        merkle.verify_inclusion(index, size, records[index].hash, proof, tree.root(size))
    for _ in range(150):
        size2 = rng.randint(1, 5000)
        size1 = rng.randint(1, size2)
        proof = log.consistency_proof(size1, size2)
        assert proof == merkle.consistency_proof(size1, size2, tree.read)
        merkle.verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))
        assert log.root(size1) == tree.root(size1)
    assert log.root() == tree.root()
    with pytest.raises(ValueError, match="beyond the log size"):
        log.inclusion_proof(4999, 5001)


def test_concurrent_submitters_are_batched_and_all_acknowledged(log: MerkleLog) -> None:
    got: list[range] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        for r in _records(t * 100, 100):
            done = log.append([r])
            with lock:
                got.append(done)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.start for r in got) == list(range(400))
    assert log.audit().ok


def _fail_on_lot(bad: int):  # type: ignore[no-untyped-def]
    def project(session: Session, index: int, entry: Entry) -> None:
        session.execute(text("INSERT INTO seen (idx) VALUES (:i)"), {"i": index})
        if entry.body["n"] == bad:
            raise ValueError(f"lot {bad} is unknown")

    return project


def test_group_is_atomic_and_a_projector_error_rejects_only_its_group(log, author) -> None:  # type: ignore[no-untyped-def]
    with log.engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (idx INTEGER PRIMARY KEY)"))
    project = _fail_on_lot(5)
    good1 = log.submit([author.entry(1), author.entry(2)], [project])
    bad = log.submit([author.entry(4), author.entry(5), author.entry(6)], [project])
    good2 = log.submit([author.entry(7)], [project])
    assert good1.result() == range(0, 2)
    with pytest.raises(ValueError, match="lot 5 is unknown"):
        bad.result()
    assert good2.result() == range(2, 3)
    assert log.size() == 3
    assert [log.entry(i).body["n"] for i in range(3)] == [1, 2, 7]
    with log.engine.connect() as conn:
        assert conn.execute(text("SELECT idx FROM seen ORDER BY idx")).scalars().all() == [0, 1, 2]
    assert log.audit().ok


def test_checkpoints_and_bundles_verify(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    empty = log.issue_checkpoint()
    assert empty.size == 0 and empty.root == merkle.EMPTY_ROOT
    entries = [author.entry(i) for i in range(300)]
    log.append(entries[:100])
    first = log.issue_checkpoint()
    assert log.issue_checkpoint() == first  # nothing new: no new checkpoint
    log.append(entries[100:])
    bundle = log.bundle(42)  # the latest covers it
    cp = bundle.verify(entries[42].leaf_hash(), [log.verifier_key()])
    assert cp.size == 100
    latest = log.issue_checkpoint()
    assert latest.size == 300
    assert log.bundle(250).verify(entries[250].leaf_hash(), [log.verifier_key()]).size == 300
    old = log.bundle(42, size=100)
    assert old.checkpoint == first.note
    with pytest.raises(IndexError):
        log.bundle(150, size=100)
    assert [c.size for c in log.checkpoints()] == [0, 100, 300]
    assert log.entry(42) == entries[42]
    report = log.audit()
    assert report.ok and report.checkpoints == 3
    assert dict(report.roots)[300] == latest.root


def test_checkpoint_at_a_past_size(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    """The anchorer anchors aligned sizes, which may lie below the latest checkpoint."""
    entries = [author.entry(i) for i in range(20)]
    log.append(entries)
    latest = log.issue_checkpoint()
    past = log.issue_checkpoint(16)
    assert past.size == 16 and past.root == log.root(16)
    assert log.issue_checkpoint(16) == past  # stored once, returned again
    assert log.issue_checkpoint(20) == latest
    assert log.latest_checkpoint() == latest  # a past checkpoint does not become the latest
    assert [c.size for c in log.checkpoints()] == [16, 20]
    bundle = log.bundle(3, size=16)
    assert bundle.verify(entries[3].leaf_hash(), [log.verifier_key()]).size == 16
    with pytest.raises(ValueError, match="beyond the log size 20"):
        log.issue_checkpoint(21)
    assert log.audit().ok


def test_reopening_continues_the_same_tree(db_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    records = _records(0, 700)
    with MerkleLog(db_url, settings=settings) as log:
        log.append(records[:300])
        key = log.verifier_key()
    with MerkleLog(db_url, settings=settings) as log:
        log.append(records[300:])
        assert log.root() == MemoryTree([r.hash for r in records]).root()
        assert log.verifier_key() == key
        assert log.audit().ok


def test_bulk_leaves_and_groups_interleave_into_one_correct_tree(log: MerkleLog) -> None:
    records = _records(0, 3000)
    meta = (records[0].type, records[0].author, records[0].key, records[0].issued_at)
    group = log.submit(records[:5])
    bulk = log.append_leaves([r.data for r in records[5:2605]], meta, chunk_entries=600)
    assert group.result() == range(0, 5)
    assert bulk == range(5, 2605)
    log.append(records[2605:])
    tree = MemoryTree([r.hash for r in records])
    assert log.root() == tree.root()
    assert log.record(1234).data == records[1234].data
    assert log.audit().ok

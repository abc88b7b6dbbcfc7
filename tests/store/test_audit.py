"""Tampering with any stored row is caught, and the audit names the first affected entry."""

from __future__ import annotations

from sqlalchemy import text

from foodtrace.store.log import MerkleLog


def _fill(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    log.append([author.entry(i) for i in range(300)])
    log.issue_checkpoint()
    log.append([author.entry(i) for i in range(300, 700)])
    log.issue_checkpoint()
    assert log.audit().ok


def _sql(log: MerkleLog, sql: str, **params: object) -> None:
    with log.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_changed_entry_data(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    _fill(log, author)
    data = log.record(517).data.replace(b"LOT000517", b"LOT999999")
    _sql(log, "UPDATE entries SET data = :d WHERE leaf_index = 517", d=data)
    report = log.audit()
    assert report.first is not None and report.first.index == 517
    assert report.first.kind == "tile"  # the stored leaf hash no longer matches the data


def test_changed_entry_column(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    _fill(log, author)
    _sql(log, "UPDATE entries SET author = 'someone' WHERE leaf_index = 9")
    first = log.audit().first
    assert first is not None and (first.index, first.kind) == (9, "entry")


def test_changed_node(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    _fill(log, author)
    # Flip a byte of node (3, 40) in tile (0, 1): leaves 320..327.
    with log.engine.begin() as conn:
        blob = bytearray(
            conn.execute(text("SELECT hashes FROM tiles WHERE level = 0 AND idx = 1")).scalar_one()
        )
        pos = (256 + 128 + 64 + 8) * 32  # level 3 starts after 256 + 128 + 64 hashes
        blob[pos] ^= 1
        conn.execute(text("UPDATE tiles SET hashes = :b WHERE level = 0 AND idx = 1"), {"b": blob})
    first = MerkleLog.audit(log).first
    assert first is not None and (first.index, first.kind) == (320, "tile")


def test_deleted_entry_and_extra_tile(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    _fill(log, author)
    _sql(log, "INSERT INTO tiles (level, idx, width, hashes) VALUES (0, 9, 1, :h)", h=b"\0" * 32)
    _sql(log, "DELETE FROM entries WHERE leaf_index = 600")
    report = log.audit()
    assert report.first is not None and report.first.index == 600
    assert any("beyond the log" in p.detail for p in report.problems)


def test_changed_checkpoint(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    _fill(log, author)
    _sql(log, "UPDATE checkpoints SET note = replace(note, '\n700\n', '\n701\n') WHERE size = 700")
    first = log.audit().first
    assert first is not None and (first.index, first.kind) == (300, "checkpoint")
    assert "does not verify" in first.detail


def test_changed_checkpoint_root_column(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    _fill(log, author)
    _sql(log, "UPDATE checkpoints SET root = :r WHERE size = 300", r=b"\1" * 32)
    first = log.audit().first
    assert first is not None and (first.index, first.kind) == (0, "checkpoint")

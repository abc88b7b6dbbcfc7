"""Signed-entry ingest: good lines are appended, bad ones rejected with a reason, log unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from foodtrace.store.authors import KeyTable, register_key, revoke_key
from foodtrace.store.ingest import Ingestor, check_line
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.errors import EntryError, SignatureError


def _ingest(log: MerkleLog, lines: list[bytes], workers: int = 0):  # type: ignore[no-untyped-def]
    with Ingestor(log, workers) as ingestor:
        return ingestor.ingest(lines)


def test_good_lines_are_appended_in_order_with_both_workers(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    lines = [author.line(i, temp=-18.5) for i in range(1200)]
    report = _ingest(log, lines, workers=2)
    assert report.rejected == []
    assert report.accepted == [(i + 1, i) for i in range(1200)]
    assert log.record(7).data == lines[7]
    assert log.entry(7) == author.entry(7, temp=-18.5)
    assert log.audit().ok


def _tamper(line: bytes, **changes: object) -> bytes:
    obj = json.loads(line)
    obj.update(changes)
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    "make,reason",
    [
        (lambda a: b'{"v":1,', "not valid JSON"),
        (lambda a: _tamper(a.line(1), extra=1), "extra: is not an envelope field"),
        (lambda a: a.line(1, pad="x" * 70_000), "the limit is 65536"),
        (lambda a: _tamper(a.line(1), body={"n": 2}), "does not verify"),
        (lambda a: _tamper(a.line(1), key="00" * 8), "has no registered key 0000000000000000"),
        (lambda a: _tamper(a.line(1), author="farm-999"), "author farm-999 has no registered key"),
        (lambda a: b'{"a":1,"a":2}', "duplicate key"),
        (lambda a: _tamper(a.line(1), issued_at="yesterday"), "issued_at: expected an RFC 3339"),
    ],
)
def test_bad_lines_are_rejected_with_a_reason(log: MerkleLog, author, make, reason) -> None:  # type: ignore[no-untyped-def]
    lines = [author.line(0), make(author), author.line(2)]
    report = _ingest(log, lines)
    assert [(r.line, reason in r.reason) for r in report.rejected] == [(2, True)], report.rejected
    assert report.accepted == [(1, 0), (3, 1)]
    assert log.size() == 2


def test_revoked_and_expired_keys_are_refused(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    line = author.line(1)
    assert check_line(line, KeyTable.load(log.engine)).data == line
    revoke_key(log.engine, author.party, keys.key_id(author.key))
    with pytest.raises(SignatureError, match="was revoked at"):
        check_line(line, KeyTable.load(log.engine))
    other = keys.generate()
    register_key(
        log.engine,
        "lab-7",
        other.public_key(),
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
        valid_until=datetime(2025, 1, 1, tzinfo=UTC),
    )
    from foodtrace.trace import entry as entry_mod

    late = entry_mod.sign(
        other, type="test_report", author="lab-7", body={}, issued_at="2025-06-01T00:00:00Z"
    )
    with pytest.raises(SignatureError, match="expired at 2025-01-01"):
        check_line(late.leaf_data(), KeyTable.load(log.engine))
    early = entry_mod.sign(
        other, type="test_report", author="lab-7", body={}, issued_at="2023-06-01T00:00:00Z"
    )
    with pytest.raises(SignatureError, match="is valid from 2024-01-01"):
        check_line(early.leaf_data(), KeyTable.load(log.engine))
    report = _ingest(log, [line])
    assert "revoked" in report.rejected[0].reason and log.size() == 0


def test_non_canonical_input_is_stored_canonically(log: MerkleLog, author) -> None:  # type: ignore[no-untyped-def]
    canonical = author.line(3, temp=1.5e-7)
    spaced = json.dumps(json.loads(canonical), indent=2, ensure_ascii=True).encode()
    assert check_line(spaced, KeyTable.load(log.engine)).data == canonical
    with pytest.raises(EntryError, match="body"):
        check_line(_tamper(canonical, body=[]), KeyTable.load(log.engine))

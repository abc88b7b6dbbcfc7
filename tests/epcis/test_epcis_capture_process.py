"""Captures prepared in a capture process answer exactly as captures prepared on the
request's thread: the same refusals (every problem named, nothing stored), the same stored
entries; a capture process that dies costs one 503, not the worker."""

from __future__ import annotations

import copy
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from repos import load, object_document, open_repository

from foodtrace.epcis import pool, preparation
from foodtrace.epcis.preparation import PreparedCapture, Refusal

OBJECT = "Example_9.6.1-ObjectEvent.jsonld"
LOT = "urn:epc:class:lgtin:4012345.012345.PROC1"


def _shape(r: Any) -> tuple[Any, ...]:
    """What a capture's answer says, without what differs per document (ids, indices)."""
    body = r.json()
    errors = [(e["pointer"], e["detail"]) for e in body["errors"]]
    if "captureID" not in body:  # a problem
        return r.status_code, r.headers["content-type"], body["title"], errors
    pointers = [p for p, _ in errors]
    return r.status_code, body["status"], body["eventCount"], len(body["entryIndices"]), pointers


def test_a_capture_process_answers_as_the_requests_thread_does(
    db_url: str, tmp_path: Path, testdata: Path
) -> None:
    good = load(testdata, OBJECT)
    bad = copy.deepcopy(good)
    bad["epcisBody"]["eventList"][0]["bizStep"] = "shippping"
    del bad["epcisBody"]["eventList"][1]["eventTime"]
    answers: dict[int, list[Any]] = {}
    with open_repository(db_url, tmp_path / "var") as repo:
        settings = repo.client.app.state.settings  # type: ignore[attr-defined]
        for processes, lot in ((0, LOT), (1, LOT + "B")):
            settings.capture_processes = processes
            before = repo.counts()
            refused = repo.capture(bad)
            assert repo.counts() == before  # a refused document changes nothing
            first = repo.capture(object_document(range(3), lot))
            again = repo.capture(object_document(range(2, 5), lot))
            answers[processes] = [_shape(r) for r in (refused, first, again)]
            assert repo.counts()[1] == before[1] + 3
    assert answers[1] == answers[0]
    refused_, captured, duplicate = answers[1]
    assert refused_[0] == 422 and refused_[1] == "application/problem+json"
    assert {p for p, _ in refused_[3]} >= {
        "/body/epcisBody/eventList/0/bizStep",
        "/body/epcisBody/eventList/1/eventTime",
    }
    assert captured == (202, "succeeded", 3, 3, [])
    assert duplicate == (202, "failed", 3, 0, ["/epcisBody/eventList/0"])


def test_prepared_entries_are_signed_and_checked_once() -> None:
    """What comes back from the process: signed entries with their canonical bytes, in
    small chunks, and the bodies already checked against the entry type's model."""
    from foodtrace.trace import keys

    key = keys.generate()
    raw = key.private_bytes_raw()
    doc = object_document(range(150), LOT)
    out = preparation.prepare_capture(
        json.dumps(doc).encode(), "application/ld+json", 10_000, "farm-001", raw
    )
    assert isinstance(out, PreparedCapture) and out.bodies_checked
    assert len(out.chunks) == -(-150 // preparation.ENTRIES_PER_CHUNK)
    entries = out.entries()
    assert [e.body["hash_id"] for e in entries] == [h for h, _ in out.event_keys]
    assert all(e.__dict__.get("_leaf") and e.__dict__.get("_signed") for e in entries)
    public = key.public_key()
    for e in entries[:5]:
        from foodtrace.trace.entry import verify_signature

        verify_signature(e, public)
    unsigned = preparation.prepare_capture(
        json.dumps(doc).encode(), "application/ld+json", 10_000, "farm-001", None
    )
    assert isinstance(unsigned, PreparedCapture) and unsigned.chunks == []
    refused = preparation.prepare_capture(b"{", "application/json", 10, "farm-001", raw)
    assert isinstance(refused, Refusal) and refused.problem().status == 400


def test_a_dead_capture_process_costs_one_503(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_repository(db_url, tmp_path / "var", capture_processes=1) as repo:
        assert repo.capture(object_document(range(2), LOT)).json()["success"]
        [child] = list(pool._pool(1)._processes.values())
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        r = repo.capture(object_document(range(2, 4), LOT))
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "Retry-After" in r.headers
        again = repo.capture(object_document(range(2, 4), LOT))  # a new process
        assert again.status_code == 202 and again.json()["success"], again.text

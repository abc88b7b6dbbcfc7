"""Truthful answers under load: captures racing scan counts and anchoring on SQLite, and
pages that neither skip nor repeat events while others capture."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from repos import Repository, event_uuid, object_document, open_repository
from sqlalchemy import select

from foodtrace.epcis.models import EpcisEvent
from foodtrace.ledger.anchorer import Anchorer
from foodtrace.scan.buffer import ScanBuffer

LOT = "urn:epc:class:lgtin:4012345.012345.LOTA"
CAPTURERS = 4
CAPTURES_EACH = 6
EVENTS_PER_CAPTURE = 3


def _capture(repo: Repository, ns: list[int]) -> Any:
    return repo.client.post(
        "/epcis/capture",
        content=json.dumps(object_document(ns, LOT)),
        headers={"Content-Type": "application/ld+json", **repo.auth},
    )


def test_captures_scans_and_anchoring_race_without_a_wrong_answer(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Every capture is answered 202 with exactly the entries stored for its events, while
    scan counts are flushed and checkpoints anchored as fast as they can on the same file."""
    with open_repository(sqlite_url, tmp_path / "var", anchor_align_bits=0) as repo:
        stop = threading.Event()
        side_errors: list[BaseException] = []
        flushes = anchors = 0

        def scanning() -> None:
            nonlocal flushes
            with ScanBuffer(repo.log.engine, flush_every=3600) as scans:
                i = 0
                while not stop.is_set():
                    scans.add(f"ft1|01|04012345123456|10|L{i % 7}", f"net-{i % 3}")
                    i += 1
                    flushes += scans.flush() > 0

        def anchoring() -> None:
            nonlocal anchors
            anchorer = Anchorer(repo.log, repo.settings)
            try:
                assert anchorer.lock.try_acquire()
                while not stop.is_set():
                    anchorer.run_once(force=True)
                    anchors += 1
            finally:
                anchorer.close()

        def guarded(work: Any) -> None:
            try:
                work()
            except BaseException as exc:  # reported below: a side writer must not fail
                side_errors.append(exc)

        sides = [threading.Thread(target=guarded, args=(w,)) for w in (scanning, anchoring)]
        for t in sides:
            t.start()

        def capturer(k: int) -> list[tuple[list[int], Any]]:
            out = []
            for c in range(CAPTURES_EACH):
                first = (k * CAPTURES_EACH + c) * EVENTS_PER_CAPTURE
                ns = list(range(first, first + EVENTS_PER_CAPTURE))
                out.append((ns, _capture(repo, ns)))
            return out

        try:
            with ThreadPoolExecutor(CAPTURERS) as pool:
                answers = [a for batch in pool.map(capturer, range(CAPTURERS)) for a in batch]
        finally:
            stop.set()
            for t in sides:
                t.join(timeout=120)
        assert side_errors == []
        assert flushes > 0 and anchors > 0

        with repo.sessions() as session:
            rows = session.execute(select(EpcisEvent.event_id, EpcisEvent.entry_index))
            stored = {event_id: index for event_id, index in rows}
        for ns, r in answers:
            assert r.status_code == 202, r.text
            job = r.json()
            assert job["success"] and job["status"] == "succeeded"
            assert job["entryIndices"] == [stored[event_uuid(n)] for n in ns]
            polled = repo.client.get(r.headers["location"], headers=repo.auth).json()
            assert polled == job
        assert len(stored) == CAPTURERS * CAPTURES_EACH * EVENTS_PER_CAPTURE


def test_pages_neither_skip_nor_repeat_while_others_capture(db_url: str, tmp_path: Path) -> None:
    """Between every two pages, events are captured before, inside and after the page
    window: the pages still give exactly the events stored when the first page was read."""
    with open_repository(db_url, tmp_path / "var") as repo:
        first = list(range(0, 120, 3))  # 40 events, 3 minutes apart
        assert _capture(repo, first).json()["success"]
        seen: list[str] = []
        params: dict[str, Any] = {"perPage": "7", "MATCH_anyEPCClass": LOT}
        extra = 1
        while True:
            r = repo.client.get("/epcis/events", params=params)
            assert r.status_code == 200
            events = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            seen += [e["eventID"] for e in events]
            # new events whose eventTime falls before, between and after those paged so far
            assert _capture(repo, [extra, extra + 1, 200 + extra]).json()["success"]
            extra += 3
            token = r.headers.get("GS1-Next-Page-Token")
            if token is None:
                break
            params = {**params, "nextPageToken": token}
        assert len(seen) == len(set(seen))
        assert seen == [event_uuid(n) for n in first]
        # a new query reads a new snapshot: everything
        r = repo.client.get("/epcis/events", params={"perPage": "1000"})
        total = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(total) == len(first) + 3 * 6

"""What one capture may cost: too many events are refused before any heavy work, captures
run off the event loop, and a full capture queue answers 503 with Retry-After."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from repos import object_document, open_repository

from foodtrace.config import Settings
from foodtrace.epcis import service

LOT = "urn:epc:class:lgtin:4012345.012345.LIM1"


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


def test_the_default_limit_is_ten_thousand_events() -> None:
    assert Settings().max_events_per_document == 10_000


def test_too_many_events_are_refused_before_validation(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in this process (capture_processes=0), so the spy below sees what is validated
    overrides = {"max_events_per_document": 3, "capture_processes": 0}
    with open_repository(db_url, tmp_path / "var", **overrides) as repo:
        before = repo.counts()
        validated: list[object] = []
        real = service.document_problems
        monkeypatch.setattr(service, "document_problems", lambda d: validated.append(d) or real(d))
        doc = object_document(range(4), LOT)
        doc["epcisBody"]["eventList"][0]["action"] = "SOMETIMES"  # would be a 422 problem
        body = _problem(repo.capture(doc), 413)
        assert [e["pointer"] for e in body["errors"]] == ["/body/epcisBody/eventList"]
        assert "at most 3 events, got 4" in body["errors"][0]["detail"]
        assert validated == [] and repo.counts() == before  # no schema check, nothing stored
        r = repo.capture(object_document(range(3), LOT))
        assert r.status_code == 202, r.text
        assert r.json()["success"] and len(validated) == 1


def test_a_full_capture_queue_answers_503_and_pages_go_on(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real = service.capture

    def slow_capture(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert release.wait(30), "the test never released the capture"
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "capture", slow_capture)
    overrides = {"capture_concurrency": 1, "capture_queue": 0}
    with open_repository(db_url, tmp_path / "var", **overrides) as repo:
        answers: list[Any] = []
        first = threading.Thread(
            target=lambda: answers.append(repo.capture(object_document(range(2), LOT)))
        )
        first.start()
        try:
            assert started.wait(30), "the first capture never started"
            # the capture holds a worker thread, not the event loop: other requests answer
            assert repo.client.get("/healthz").status_code in (200, 503)
            assert repo.client.get("/epcis/events").status_code == 200
            body = _problem(repo.capture(object_document(range(2, 4), LOT)), 503)
            assert body["errors"] and body["type"].endswith("/busy")
        finally:
            release.set()
            first.join(30)
        [done] = answers
        assert done.status_code == 202 and done.json()["success"], done.text
        # room again once the first is done
        again = repo.capture(object_document(range(2, 4), LOT))
        assert again.status_code == 202, again.text


def test_busy_answers_carry_retry_after(db_url: str, tmp_path: Path) -> None:
    from foodtrace.api.limits import Gate, busy

    gate = Gate(1, 1, "things")
    gate.admit()
    gate.admit()
    with pytest.raises(type(busy("x", 1))) as refused:
        gate.admit()
    assert refused.value.status == 503 and refused.value.headers["Retry-After"] == "1"
    gate.leave()
    gate.admit()  # a place freed
    assert gate.admitted == 2


def test_a_lots_events_come_in_pages(db_url: str, tmp_path: Path) -> None:
    with open_repository(db_url, tmp_path / "var") as repo:
        assert repo.capture(object_document(range(5), LOT)).json()["success"]
        lot = "LIM1"
        whole = repo.client.get(f"/epcis/lots/{lot}").json()["epcisBody"]["eventList"]
        assert len(whole) == 5
        seen: list[str] = []
        url = f"/epcis/lots/{lot}?perPage=2"
        while url:
            r = repo.client.get(url)
            assert r.status_code == 200, r.text
            events = r.json()["epcisBody"]["eventList"]
            assert 1 <= len(events) <= 2
            seen += [e["eventID"] for e in events]
            token = r.headers.get("next-page-token")
            assert ("link" in r.headers) == (token is not None)
            url = f"/epcis/lots/{lot}?perPage=2&nextPageToken={token}" if token else ""
        assert seen == [e["eventID"] for e in whole]
        _problem(repo.client.get(f"/epcis/lots/{lot}?nextPageToken=AAAA"), 400)

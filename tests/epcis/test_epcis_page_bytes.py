"""A query page is bounded in bytes as well as in events: ``perPage=1000`` of large events
stops once the page's stored JSON passes ``EPCIS_MAX_PAGE_BYTES`` (at least one event a
page), and ``nextPageToken`` continues from there, so nothing is lost or repeated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repos import object_document, open_repository

from foodtrace.epcis import query, responses
from foodtrace.epcis.models import EpcisEvent

LOT = "urn:epc:class:lgtin:4012345.012345.BYTES1"


def test_an_event_larger_than_the_cap_still_makes_a_page() -> None:
    rows = [EpcisEvent(body="x" * size) for size in (10, 10, 10)]
    assert query.within_bytes(rows, 25) == 2
    assert query.within_bytes(rows, 5) == 1  # never an empty page
    assert query.within_bytes(rows, 30) == 3


def test_a_page_stops_at_the_byte_cap_and_the_token_continues(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_repository(db_url, tmp_path / "var") as repo:
        assert repo.capture(object_document(range(5), LOT)).json()["success"]
        whole = repo.client.get("/epcis/events?perPage=1000")
        assert whole.status_code == 200, whole.text
        events = whole.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(events) == 5 and "link" not in whole.headers
        largest = max(len(json.dumps(e, ensure_ascii=False).encode()) for e in events)
        monkeypatch.setattr(responses, "EPCIS_MAX_PAGE_BYTES", int(largest * 2.5))

        seen: list[str] = []
        url = "/epcis/events?perPage=1000"
        pages = 0
        while url:
            r = repo.client.get(url)
            assert r.status_code == 200, r.text
            page = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            assert 1 <= len(page) <= 3  # far fewer than perPage: the bytes stopped it
            seen += [e["eventID"] for e in page]
            pages += 1
            token = r.headers.get("GS1-Next-Page-Token")
            assert ("link" in r.headers) == (token is not None)
            url = f"/epcis/events?perPage=1000&nextPageToken={token}" if token else ""
        assert seen == [e["eventID"] for e in events]
        assert pages >= 2

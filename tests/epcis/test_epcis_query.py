"""Every SimpleEventQuery parameter family, on both databases, over one captured corpus.

``data/query_cases.json`` lists, per family, a query that must match and one that must not,
each with the exact events (and order) it returns; ``refused`` lists parameters that must be
answered 400 naming them. The corpus (``data/query_corpus.jsonld``) is captured once per
backend through ``POST /epcis/capture``, so the index tables are filled by the real projector.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from databases import database
from repos import Repository, open_repository

DATA = Path(__file__).resolve().parent / "data"
CASES = json.loads((DATA / "query_cases.json").read_text())
CORPUS = json.loads((DATA / "query_corpus.jsonld").read_text())


def event_id(n: int) -> str:
    return f"urn:uuid:7a1d0c2e-000{n}-4000-8000-00000000000{n}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Repository]:
    tmp = tmp_path_factory.mktemp(request.param)
    with database(request.param, tmp) as url, open_repository(url, tmp / "var") as repo:
        job = repo.capture(CORPUS).json()
        assert job["success"], job
        yield repo


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "EPCISQueryDocument"
    return [e["eventID"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


@pytest.mark.parametrize(
    "case", CASES["cases"], ids=[json.dumps(c["params"])[:80] for c in CASES["cases"]]
)
def test_query_family(corpus: Repository, case: dict[str, Any]) -> None:
    r = corpus.client.get("/epcis/events", params=case["params"], headers=case.get("headers", {}))
    assert _ids(r) == [event_id(n) for n in case["expect"]]


TYPED = ("EQ_bizTransaction_", "EQ_source_", "EQ_destination_")


def family(name: str) -> str:
    """A parameter's family: extension and typed parameters without the field or type."""
    typed = next((t for t in TYPED if name.startswith(t)), None)
    if typed:
        return typed
    if ":" in name:
        match = re.match(r"^((?:[A-Z]+_)+)", name)
        assert match is not None
        return match.group(1)
    return name


def test_every_family_has_a_match_and_a_miss() -> None:
    """The case table itself: each parameter family has a case returning events and one
    that leaves out some of the corpus (an empty result or a strict subset)."""
    matched: dict[str, bool] = {}
    missed: dict[str, bool] = {}
    for case in CASES["cases"]:
        for name in map(family, case["params"]):
            matched[name] = matched.get(name, False) or bool(case["expect"])
            missed[name] = missed.get(name, False) or len(case["expect"]) < 7
    assert all(matched.values()), [n for n, ok in matched.items() if not ok]
    assert all(missed.values()), [n for n, ok in missed.items() if not ok]


@pytest.mark.parametrize("case", CASES["refused"], ids=[c["pointer"] for c in CASES["refused"]])
def test_unknown_parameters_and_bad_values_are_refused_by_name(
    corpus: Repository, case: dict[str, Any]
) -> None:
    r = corpus.client.get("/epcis/events", params=case["params"])
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in r.json()["errors"]] == [case["pointer"]]


def test_every_problem_is_listed(corpus: Repository) -> None:
    r = corpus.client.get(
        "/epcis/events", params={"MATCH_anyEPClass": "x", "GE_eventTime": "soon", "EQ_bizStep": "x"}
    )
    assert r.status_code == 400
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert pointers == {"/query/MATCH_anyEPClass", "/query/GE_eventTime"}


def test_record_time(corpus: Repository) -> None:
    now = datetime.now(UTC)
    before = (now - timedelta(hours=1)).isoformat()
    after = (now + timedelta(hours=1)).isoformat()
    assert len(_ids(corpus.client.get("/epcis/events", params={"GE_recordTime": before}))) == 7
    assert _ids(corpus.client.get("/epcis/events", params={"GE_recordTime": after})) == []
    assert len(_ids(corpus.client.get("/epcis/events", params={"LT_recordTime": after}))) == 7
    assert _ids(corpus.client.get("/epcis/events", params={"LT_recordTime": before})) == []


def test_max_event_count_too_many_is_413(corpus: Repository) -> None:
    r = corpus.client.get("/epcis/events", params={"maxEventCount": "2", "EQ_action": "ADD"})
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["pointer"] == "/query/maxEventCount"


def test_event_count_limit_spans_pages(corpus: Repository) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"eventCountLimit": "5", "perPage": "2"}
    while True:
        r = corpus.client.get("/epcis/events", params=params)
        seen += _ids(r)
        token = r.headers.get("GS1-Next-Page-Token")
        if token is None:
            break
        assert r.headers["Link"].endswith('>; rel="next"') and token in r.headers["Link"]
        params = {**params, "nextPageToken": token}
    assert seen == [event_id(n) for n in range(1, 6)]


def test_descending_pages(corpus: Repository) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"orderBy": "eventTime", "perPage": "3"}
    while True:
        r = corpus.client.get("/epcis/events", params=params)
        seen += _ids(r)
        token = r.headers.get("GS1-Next-Page-Token")
        if token is None:
            break
        params = {**params, "nextPageToken": token}
    assert seen == [event_id(n) for n in range(7, 0, -1)]

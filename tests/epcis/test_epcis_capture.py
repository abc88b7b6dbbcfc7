"""Capture refusals, duplicates, error declarations, authorisation and query errors, on
both backends. "Nothing stored" means the log size and the EPCIS tables are unchanged."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import quote

from repos import Repository, load

from foodtrace.auth import Role
from foodtrace.trace.epcis import hashing, query_params

OBJECT = "Example_9.6.1-ObjectEvent.jsonld"


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


def test_schema_and_vocabulary_problems_are_all_listed_and_nothing_is_stored(
    repository: Repository, testdata: Path
) -> None:
    good = load(testdata, OBJECT)
    assert repository.capture(load(testdata, "Example_9.6.2-ObjectEvent.jsonld")).json()["success"]
    before = repository.counts()
    bad = copy.deepcopy(good)
    first, second = bad["epcisBody"]["eventList"]
    first["bizStep"] = "shippping"  # CBV vocabulary
    del first["eventTime"]  # schema: required
    second["disposition"] = "urn:epcglobal:cbv:disp:no_such_disposition"
    second["action"] = "SOMETIMES"
    body = _problem(repository.capture(bad), 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert {
        "/body/epcisBody/eventList/0/bizStep",
        "/body/epcisBody/eventList/0/eventTime",
        "/body/epcisBody/eventList/1/disposition",
        "/body/epcisBody/eventList/1/action",
    } <= pointers
    assert "shippping" in " ".join(e["detail"] for e in body["errors"])
    assert repository.counts() == before


def test_one_bad_event_refuses_the_whole_document(repository: Repository, testdata: Path) -> None:
    doc = load(testdata, OBJECT)
    doc["epcisBody"]["eventList"][1]["eventTime"] = "yesterday"
    before = repository.counts()
    body = _problem(repository.capture(doc), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/body/epcisBody/eventList/1/eventTime"]
    assert repository.counts() == before
    assert (
        repository.client.get("/epcis/events").json()["epcisBody"]["queryResults"]["resultsBody"][
            "eventList"
        ]
        == []
    )


def test_malformed_and_wrong_media_type(repository: Repository) -> None:
    r = repository.client.post(
        "/epcis/capture",
        content=b"{not json",
        headers={"Content-Type": "application/json", **repository.auth},
    )
    assert _problem(r, 400)["errors"][0]["pointer"] == "/body"
    r = repository.client.post(
        "/epcis/capture", content=b"<xml/>", headers={"Content-Type": "text/xml", **repository.auth}
    )
    _problem(r, 415)
    _problem(repository.capture({"type": "EPCISDocument"}), 422)
    empty = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T08:00:00Z",
        "epcisBody": {"eventList": []},
    }
    assert _problem(repository.capture(empty), 422)["errors"][0]["pointer"] == (
        "/body/epcisBody/eventList"
    )
    assert repository.counts() == (0, 0, 0, 0)


def test_duplicates_are_refused_within_and_across_documents(
    repository: Repository, testdata: Path
) -> None:
    doc = load(testdata, OBJECT)
    job = repository.capture(doc).json()
    assert job["success"]
    before = repository.counts()
    again = repository.capture(doc)
    assert again.status_code == 202
    failed = again.json()
    assert failed["status"] == "failed" and failed["entryIndices"] == []
    assert [e["pointer"] for e in failed["errors"]] == [
        "/epcisBody/eventList/0",
        "/epcisBody/eventList/1",
    ]
    assert f"(entry {job['entryIndices'][0]})" in failed["errors"][0]["detail"]
    after = repository.counts()
    assert after[:3] == before[:3] and after[3] == before[3] + 1  # only the failed job row
    assert repository.client.get(again.headers["location"], headers=repository.auth).json() == (
        failed
    )

    twice = load(testdata, "Example_9.6.2-ObjectEvent.jsonld")
    events = twice["epcisBody"]["eventList"]
    twice_event = copy.deepcopy(events[0])
    twice_event["eventID"] = "urn:uuid:0b0c1d2e-0000-4000-8000-000000000001"  # not hashed
    events.append(twice_event)
    body = _problem(repository.capture(twice), 422)
    assert body["errors"][-1]["pointer"] == f"/body/epcisBody/eventList/{len(events) - 1}"
    assert "same event as /epcisBody/eventList/0" in body["errors"][-1]["detail"]


def test_an_error_declaration_may_follow_the_event_it_corrects(
    repository: Repository, testdata: Path
) -> None:
    original = load(testdata, "AssociationEvent__AssociationEvent-d.jsonld")
    declaration = load(testdata, "AssociationEvent__AssociationEvent-g.jsonld")
    assert hashing.document_hash_ids(original) == hashing.document_hash_ids(declaration)
    first = repository.capture(original).json()
    second = repository.capture(declaration).json()
    assert first["success"] and second["success"], second["errors"]
    hash_id = hashing.document_hash_ids(original)[0]
    got = repository.client.get(f"/epcis/events/{quote(hash_id, safe='')}").json()
    assert "errorDeclaration" not in got["event"]
    assert got["errorDeclarations"] == second["entryIndices"]
    assert repository.capture(declaration).json()["status"] == "failed"


def test_who_may_capture(repository: Repository, testdata: Path) -> None:
    doc = load(testdata, OBJECT)
    r = repository.client.post("/epcis/capture", json=doc)
    assert _problem(r, 401)["status"] == 401
    lab = repository.add_party("lab-001", Role.LAB)
    r = repository.client.post(
        "/epcis/capture", json=doc, headers={"Authorization": f"Bearer {lab}"}
    )
    assert "producer" in _problem(r, 403)["detail"]
    before = repository.counts()
    keyless = repository.add_party("shop-009", Role.PRODUCER, custodial=False)
    r = repository.client.post(
        "/epcis/capture", json=doc, headers={"Authorization": f"Bearer {keyless}"}
    )
    job = r.json()
    assert r.status_code == 202 and job["status"] == "failed"
    assert "server-held" in job["errors"][0]["detail"]
    assert repository.counts()[:3] == before[:3]
    # a job is visible to its party (and regulators) only
    r = repository.client.get(r.headers["location"], headers=repository.auth)
    assert _problem(r, 404)["status"] == 404


def test_query_parameter_errors(repository: Repository) -> None:
    r = repository.client.get("/epcis/events", params={"GE_eventTime": "2025-03-01T00:00:00"})
    assert _problem(r, 400)["errors"][0]["pointer"] == "/query/GE_eventTime"
    r = repository.client.get("/epcis/events", params={"nextPageToken": "garbage!"})
    assert _problem(r, 400)["errors"][0]["pointer"] == "/query/nextPageToken"
    r = repository.client.get("/epcis/events", params={"perPage": 0})
    assert _problem(r, 400)["errors"][0]["pointer"] == "/query/perPage"
    missing = repository.client.get("/epcis/events/urn%3Auuid%3Anone")
    _problem(missing, 404)


def test_a_token_only_continues_its_own_query(repository: Repository, testdata: Path) -> None:
    assert repository.capture(load(testdata, OBJECT)).json()["success"]
    r = repository.client.get("/epcis/events", params={"perPage": 1})
    token = r.headers["GS1-Next-Page-Token"]
    r = repository.client.get(
        "/epcis/events",
        params={"perPage": 1, "nextPageToken": token, "eventType": "AggregationEvent"},
    )
    assert "other filters" in _problem(r, 400)["errors"][0]["detail"]
    r = repository.client.get("/epcis/events", params={"perPage": 1, "nextPageToken": token})
    assert r.status_code == 200 and "GS1-Next-Page-Token" not in r.headers


def test_split_values() -> None:
    assert query_params.split_values(["a|b", "b", " c ", ""]) == ("a", "b", "c")

"""Named queries (``/epcis/queries``): stored only when valid, run with paging, owned."""

from __future__ import annotations

import json
from pathlib import Path

from repos import Repository

from foodtrace.auth import Role

CORPUS = json.loads((Path(__file__).resolve().parent / "data/query_corpus.jsonld").read_text())
LOT_A = "urn:epc:class:lgtin:4012345.012345.LOTA"


def test_named_query_lifecycle(repository: Repository) -> None:
    client, auth = repository.client, repository.auth
    assert repository.capture(CORPUS).json()["success"]
    body = {"name": "lot-a", "query": {"MATCH_anyEPCClass": [LOT_A], "eventType": "ObjectEvent"}}
    r = client.post("/epcis/queries", json=body, headers=auth)
    assert r.status_code == 201 and r.headers["location"] == "/epcis/queries/lot-a"
    assert r.json()["query"] == body["query"] and r.json()["owner"] == "farm-001"
    assert client.post("/epcis/queries", json=body, headers=auth).status_code == 409
    assert [q["name"] for q in client.get("/epcis/queries", headers=auth).json()] == ["lot-a"]
    assert client.get("/epcis/queries/lot-a", headers=auth).json()["name"] == "lot-a"

    # run it, one event per page: the two ObjectEvents naming lot A
    seen, params = [], {"perPage": "1"}
    while True:
        r = client.get("/epcis/queries/lot-a/events", params=params)
        assert r.status_code == 200, r.text
        results = r.json()["epcisBody"]["queryResults"]
        assert results["queryName"] == "lot-a"
        seen += [e["eventID"][-1] for e in results["resultsBody"]["eventList"]]
        if "GS1-Next-Page-Token" not in r.headers:
            break
        params = {**params, "nextPageToken": r.headers["GS1-Next-Page-Token"]}
    assert seen == ["1", "2"]

    other = repository.add_party("farm-002", Role.PRODUCER)
    r = client.delete("/epcis/queries/lot-a", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 403
    assert client.delete("/epcis/queries/lot-a", headers=auth).status_code == 204
    assert client.get("/epcis/queries/lot-a", headers=auth).status_code == 404
    assert client.get("/epcis/queries/lot-a/events").status_code == 404


def test_a_bad_named_query_is_refused_and_not_stored(repository: Repository) -> None:
    client, auth = repository.client, repository.auth
    body = {"name": "bad", "query": {"MATCH_anyEPClass": [LOT_A], "GE_eventTime": "soon"}}
    r = client.post("/epcis/queries", json=body, headers=auth)
    assert r.status_code == 400
    assert {e["pointer"] for e in r.json()["errors"]} == {
        "/body/query/MATCH_anyEPClass",
        "/body/query/GE_eventTime",
    }
    r = client.post("/epcis/queries", json={"name": "no spaces", "query": {}}, headers=auth)
    assert r.status_code == 400 and r.json()["errors"][0]["pointer"] == "/body/name"
    assert client.get("/epcis/queries", headers=auth).json() == []
    assert client.post("/epcis/queries", json={"name": "x", "query": {}}).status_code == 401

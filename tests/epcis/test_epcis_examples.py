"""All 47 official GS1 examples: captured, read back by id and by query with the same
content, and every query parameter checked against an oracle over the original events.

The examples repeat some events (the same event in three documents, the same
transformation by EPC URN and by Digital Link), which a repository must refuse as
duplicates. So the documents are spread over the fewest repositories in which no event
repeats; that each repeat *is* refused is checked too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from databases import database
from repos import EXAMPLES, Repository, load, open_repository

from foodtrace.trace import bundle
from foodtrace.trace.epcis import events, gs1keys, hashing, validate


@dataclass
class Captured:
    repo: Repository
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def originals(self) -> dict[str, dict[str, Any]]:
        """hash id -> the event as its document had it."""
        return {
            hashing.event_hash_id(e): e for d in self.docs.values() for e in events.event_list(d)
        }


@dataclass
class Corpus:
    repos: list[Captured]
    seconds: float
    refused_repeats: dict[str, dict[str, Any]]


def partition(names: list[str], docs: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Greedy: each document into the first group where none of its events is yet, and no
    event with the same eventID (the examples reuse some for different events)."""
    groups: list[tuple[list[str], set[str]]] = []
    for name in names:
        ids = set(hashing.document_hash_ids(docs[name]))
        ids |= {e["eventID"] for e in events.event_list(docs[name]) if "eventID" in e}
        for members, seen in groups:
            if not ids & seen:
                members.append(name)
                seen |= ids
                break
        else:
            groups.append(([name], ids))
    return [members for members, _ in groups]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def corpus(
    request: pytest.FixtureRequest, testdata: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Corpus]:
    names = sorted(p.name for p in (testdata / EXAMPLES).glob("*.jsonld"))
    assert len(names) == 47
    docs = {n: load(testdata, n) for n in names}
    groups = partition(names, docs)
    with _open_all(request.param, tmp_path_factory, len(groups)) as repos:
        started = time.perf_counter()
        captured = []
        for repo, group in zip(repos, groups, strict=True):
            c = Captured(repo)
            for name in group:
                c.docs[name] = docs[name]
                r = repo.capture(docs[name])
                assert r.status_code == 202, (name, r.text)
                c.jobs[name] = r.json() | {"location": r.headers["location"]}
            captured.append(c)
        seconds = time.perf_counter() - started
        refused = {}
        first = captured[0]
        stored = {key for d in first.docs.values() for key in _keys(d)}
        for name in names:
            if name not in first.docs and set(_keys(docs[name])) & stored:
                r = first.repo.capture(docs[name])
                assert r.status_code == 202, (name, r.text)
                refused[name] = r.json()
        print(f"\ncaptured 47 documents ({len(groups)} repositories) in {seconds:.2f} s")
        yield Corpus(captured, seconds, refused)


def _keys(doc: dict[str, Any]) -> list[tuple[str, bool]]:
    """What makes an event a duplicate: its hash id, and whether it declares an error."""
    return [(hashing.event_hash_id(e), "errorDeclaration" in e) for e in events.event_list(doc)]


class _open_all:
    """Open ``n`` repositories on one backend (each its own database)."""

    def __init__(self, kind: str, factory: pytest.TempPathFactory, n: int) -> None:
        import contextlib

        self.stack = contextlib.ExitStack()
        self.kind, self.factory, self.n = kind, factory, n

    def __enter__(self) -> list[Repository]:
        repos = []
        for i in range(self.n):
            tmp = self.factory.mktemp(f"{self.kind}{i}")
            url = self.stack.enter_context(database(self.kind, tmp))
            repos.append(self.stack.enter_context(open_repository(url, tmp / "var")))
        return repos

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def test_every_example_is_captured(corpus: Corpus) -> None:
    captured = [n for c in corpus.repos for n in c.docs]
    assert len(captured) == 47 and len(corpus.repos) <= 5
    total = 0
    for c in corpus.repos:
        for name, job in c.jobs.items():
            n = len(events.event_list(c.docs[name]))
            assert job["status"] == "succeeded", (name, job["errors"])
            assert len(job["entryIndices"]) == n and job["errors"] == []
            assert c.repo.client.get(job["location"], headers=c.repo.auth).json() == {
                k: v for k, v in job.items() if k != "location"
            }
            total += n
    assert total == 56
    assert corpus.seconds < 60


def test_repeated_events_are_refused_with_the_entry_they_repeat(corpus: Corpus) -> None:
    first = corpus.repos[0]
    stored = {key for d in first.docs.values() for key in _keys(d)}
    assert len(corpus.refused_repeats) >= 4
    for name, job in corpus.refused_repeats.items():
        doc = next(c.docs[name] for c in corpus.repos if name in c.docs)
        repeats = [i for i, key in enumerate(_keys(doc)) if key in stored]
        assert job["status"] == "failed" and job["entryIndices"] == []
        assert [e["pointer"] for e in job["errors"]] == [
            f"{validate.event_list_pointer(doc)}/{i}" for i in repeats
        ]
        assert all("already stored (entry " in e["detail"] for e in job["errors"])


def _verify_record(c: Captured, record: dict[str, Any], index: int) -> None:
    assert record["index"] == index
    proof = bundle.from_json(record["proof"])
    proof.verify(bytes.fromhex(record["leaf_hash"]), [record["verifier_key"]])
    assert c.repo.log.leaf_hash(index).hex() == record["leaf_hash"]


def test_every_event_reads_back_by_id(corpus: Corpus) -> None:
    for c in corpus.repos:
        for name, doc in c.docs.items():
            indices = c.jobs[name]["entryIndices"]
            for event, index in zip(events.event_list(doc), indices, strict=True):
                hash_id = hashing.event_hash_id(event)
                for key in dict.fromkeys([hash_id, event.get("eventID", hash_id)]):
                    r = c.repo.client.get(f"/epcis/events/{quote(key, safe='')}")
                    assert r.status_code == 200, (name, key, r.text)
                    got = r.json()
                    assert got["hashID"] == hash_id and got["entryIndex"] == index
                    assert events.same_event(got["event"], event), name
                    assert got["event"]["eventID"] == event.get("eventID", hash_id)
                _verify_record(c, got["record"], index)
                assert got["record"]["entry"]["body"] == {"event": got["event"], "hash_id": hash_id}


def _all_pages(repo: Repository, params: dict[str, Any], per_page: int) -> list[list[Any]]:
    pages = []
    url, query = "/epcis/events", {**params, "perPage": per_page}
    while True:
        r = repo.client.get(url, params=query)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert validate.problems(doc) == []
        pages.append(events.event_list(doc))
        token = r.headers.get("GS1-Next-Page-Token")
        if token is None:
            assert "Link" not in r.headers
            return pages
        assert "nextPageToken=" in r.headers["Link"] and 'rel="next"' in r.headers["Link"]
        query = {**params, "perPage": per_page, "nextPageToken": token}


def test_every_event_reads_back_through_the_query(corpus: Corpus) -> None:
    for c in corpus.repos:
        originals = c.originals()
        pages = _all_pages(c.repo, {}, per_page=4)
        got = [e for page in pages for e in page]
        assert all(0 < len(p) <= 4 for p in pages)
        ids = [hashing.event_hash_id(e) for e in got]
        assert len(ids) == len(set(ids)) == len(originals)  # complete, no overlap
        for hash_id, event in zip(ids, got, strict=True):
            assert events.same_event(event, originals[hash_id])
        times = [events.parse_time(e["eventTime"]) for e in got]
        assert times == sorted(times)


def _oracle(c: Captured, keep: Any) -> set[str]:
    return {h for h, e in c.originals().items() if keep(events.extract(e))}


def _ids(c: Captured, params: dict[str, Any]) -> set[str]:
    found = [hashing.event_hash_id(e) for p in _all_pages(c.repo, params, 50) for e in p]
    assert len(found) == len(set(found))
    return set(found)


def _values(c: Captured, of: Any) -> list[str]:
    return sorted({v for e in c.originals().values() for v in of(events.extract(e)) if v})


def test_filters_match_the_oracle(corpus: Corpus) -> None:
    checked = 0
    for c in corpus.repos:
        for kind in _values(c, lambda f: [f.type]):
            assert _ids(c, {"eventType": kind}) == _oracle(c, lambda f, k=kind: f.type == k)
            checked += 1
        for step in _values(c, lambda f: [f.biz_step]):
            want = _oracle(c, lambda f, s=step: f.biz_step == s)
            assert _ids(c, {"EQ_bizStep": step}) == want
            if step == "shipping":  # the URN and Web URI spellings mean the same step
                assert _ids(c, {"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping"}) == want
            checked += 1
        for disposition in _values(c, lambda f: [f.disposition]):
            want = _oracle(c, lambda f, d=disposition: f.disposition == d)
            assert _ids(c, {"EQ_disposition": disposition}) == want
            checked += 1
        for location in _values(c, lambda f: [f.biz_location]):
            want = _oracle(c, lambda f, loc=location: f.biz_location == loc)
            assert _ids(c, {"EQ_bizLocation": location}) == want
            checked += 1
        for epc in _values(c, lambda f: f.all_epcs):
            canon = gs1keys.canonical(epc)

            def has(f: events.EventFacts, roles: tuple[str, ...], canon: str = canon) -> bool:
                return any(gs1keys.canonical(x) == canon for r in roles for x in f.epcs.get(r, ()))

            assert _ids(c, {"MATCH_epc": epc}) == _oracle(
                c, lambda f: has(f, ("epcList", "childEPCs"))
            )
            assert _ids(c, {"MATCH_anyEPC": epc}) == _oracle(c, lambda f: has(f, events.EPC_ROLES))
            checked += 2
    assert checked > 100


def test_alternatives_and_combinations(corpus: Corpus) -> None:
    types = ("ObjectEvent", "AggregationEvent")
    for c in corpus.repos:
        want = _oracle(c, lambda f: f.type in types)
        assert _ids(c, {"eventType": "|".join(types)}) == want
        assert _ids(c, {"eventType": list(types)}) == want
        both = _oracle(c, lambda f: f.type == "ObjectEvent" and f.biz_step == "shipping")
        assert _ids(c, {"eventType": "ObjectEvent", "EQ_bizStep": "shipping"}) == both


def test_event_time_window(corpus: Corpus) -> None:
    for c in corpus.repos:
        times = sorted({events.extract(e).event_time for e in c.originals().values()})
        if len(times) < 3:
            continue
        lo, hi = times[1], times[-1]
        want = _oracle(c, lambda f, lo=lo, hi=hi: lo <= f.event_time < hi)
        got = _ids(c, {"GE_eventTime": lo.isoformat(), "LT_eventTime": hi.isoformat()})
        assert got == want and want
        shifted = lo.astimezone(timezone(timedelta(hours=8))).isoformat()  # same instant
        assert _ids(c, {"GE_eventTime": shifted}) == _oracle(c, lambda f, lo=lo: f.event_time >= lo)


def test_epc_pattern_matches_every_serial_of_the_class(corpus: Corpus) -> None:
    pattern = "urn:epc:idpat:sgtin:0614141.107346.*"
    gtin = "https://id.gs1.org/01/10614141073464/"
    matched = 0
    for c in corpus.repos:
        want = _oracle(
            c,
            lambda f: any(
                gs1keys.canonical(x).startswith(gtin)
                for r in ("epcList", "childEPCs")
                for x in f.epcs.get(r, ())
            ),
        )
        assert _ids(c, {"MATCH_epc": pattern}) == want
        matched += len(want)
    assert matched >= 5


def test_lot_export(corpus: Corpus) -> None:
    exported = 0
    for c in corpus.repos:
        lots = _values(
            c, lambda f: [gs1keys.canonical(q.epc_class).partition("/10/")[2] for q in f.quantities]
        )
        for lot in lots:
            r = c.repo.client.get(f"/epcis/lots/{quote(lot, safe='')}")
            assert r.status_code == 200, r.text
            doc = r.json()
            assert doc["type"] == "EPCISDocument" and validate.problems(doc) == []
            want = _oracle(
                c,
                lambda f, lot=lot: any(
                    gs1keys.canonical(x).endswith(f"/10/{lot}")
                    for x in (*f.all_epcs, *f.all_classes)
                ),
            )
            assert {hashing.event_hash_id(e) for e in events.event_list(doc)} == want
            exported += 1
    assert exported >= 3
    r = corpus.repos[0].repo.client.get("/epcis/lots/NO-SUCH-LOT")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"

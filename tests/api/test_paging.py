"""Cursor pagination of list endpoints: bounded pages, opaque validated tokens, the next
page's Link (on our public origin) and Next-Page-Token, and a proof per row of the page
only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi import Response
from starlette.datastructures import URL

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from recordharness import Env, assert_problem, env_fixture, pointers  # noqa: F401

from foodtrace.api.paging import INT, PageRequest, decode_token, encode_token
from foodtrace.api.problems import Problem
from foodtrace.config import LIST_MAX_PER_PAGE


def test_tokens_round_trip_and_refuse_what_they_were_not_made_for() -> None:
    token = encode_token("/a", [5, "x"])
    assert decode_token("/a", token, (int, str)) == [5, "x"]
    for scope, shape, text in (
        ("/b", (int, str), token),  # another list
        ("/a", (str, str), token),  # another key shape
        ("/a", (int,), token),
        ("/a", (int, str), "!!"),  # not base64 JSON
        ("/a", (int, str), encode_token("/a", [True, "x"])),  # bool is not int
    ):
        with pytest.raises(Problem) as refused:
            decode_token(scope, text, shape)
        assert refused.value.status == 400
        assert [e.pointer for e in refused.value.errors] == ["/query/nextPageToken"]


def test_keyed_pages_walk_a_list_once() -> None:
    items = list(range(10, 17))
    seen: list[int] = []
    token: str | None = None
    while True:
        response = Response()
        page = PageRequest(3, token, URL("http://example.test/x?perPage=3"))
        after = page.after_key(INT)
        rows = [i for i in items if after is None or i > after[0]][: page.fetch]
        chunk = page.keyed(response, rows, lambda i: i)
        assert len(chunk) <= 3
        seen += chunk
        token = response.headers.get("Next-Page-Token")
        if token is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"].startswith("<http://example.test/x?perPage=3&next")
    assert seen == items


def test_a_partys_inspections_come_in_pages_with_a_proof_per_row(env: Env) -> None:
    shop = env.add_party("restaurant")
    inspector = env.add_party("inspector")
    for day in range(1, 6):
        body = {"party_id": shop.party_id, "inspected_on": f"2026-03-0{day}", "result": "合格"}
        r = inspector.post("/api/v1/inspections", "inspection.record", body)
        assert r.status_code == 201, r.text
    path = f"/api/v1/parties/{shop.party_id}/inspections"
    everything = env.client.get(path).json()
    assert len(everything) == 5
    seen: list[int] = []
    url = f"{path}?perPage=2"
    pages = 0
    while url:
        r = env.client.get(url)
        assert r.status_code == 200, r.text
        rows = r.json()
        assert 1 <= len(rows) <= 2 and all(row["proof"] for row in rows)
        seen += [row["entry_index"] for row in rows]
        pages += 1
        link = r.headers.get("link")
        if link is None:
            break
        assert link.startswith(f"<{env.settings.public_base_url.rstrip('/')}{path}?")
        url = f"{path}?perPage=2&nextPageToken={r.headers['next-page-token']}"
    assert pages == 3 and seen == [row["entry_index"] for row in everything]

    first = env.client.get(f"{path}?perPage=2")
    token = first.headers["next-page-token"]
    other = env.add_party("restaurant")
    refused = env.client.get(f"/api/v1/parties/{other.party_id}/inspections?nextPageToken={token}")
    assert_problem(refused, 400)
    assert pointers(refused) == {"/query/nextPageToken"}
    for bad in ("0", str(LIST_MAX_PER_PAGE + 1), "two"):
        r = env.client.get(f"{path}?perPage={bad}")
        assert_problem(r, 400)
        assert pointers(r) == {"/query/perPage"}

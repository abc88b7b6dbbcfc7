"""Named queries (by name) and a query's subscriptions (oldest first, then by id) page in SQL:
every row once in the unpaged order, a subscriber sees only its own, and a page is one
LIMITed read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from repos import Repository, open_repository

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from keysetharness import check_list, statements, walk

from foodtrace.api.paging import encode_token
from foodtrace.auth import Role


def test_named_queries_page_in_sql_by_name(repository: Repository) -> None:
    auth = repository.auth
    for name in ("q-3", "q-1", "q-4", "q-2"):
        body = {"name": name, "query": {"eventType": "ObjectEvent"}}
        assert repository.client.post("/epcis/queries", json=body, headers=auth).status_code == 201
    path = "/epcis/queries"
    found = check_list(repository, path, 4, [1], headers=auth)
    assert [q["name"] for q in found] == ["q-1", "q-2", "q-3", "q-4"]
    with statements(repository) as sql:
        r = repository.client.get(
            path, params={"perPage": "1", "nextPageToken": encode_token(path, [""])}, headers=auth
        )
    assert r.status_code == 200 and r.json() == found[:1]  # a key no row has continues
    reads = [s for s in sql if "FROM epcis_queries" in s and "ORDER BY" in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], sql


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["subscriptionID"] for row in rows]


def test_a_querys_subscriptions_page_in_sql_oldest_first(db_url: str, tmp_path: Path) -> None:
    # loopback hooks (nothing listens): the rows' delivery state may move, so ids are compared
    with open_repository(db_url, tmp_path / "var", webhook_allow_loopback=True) as repo:
        client, auth = repo.client, repo.auth
        other = {"Authorization": f"Bearer {repo.add_party('farm-002', Role.PRODUCER)}"}
        body = {"name": "all", "query": {}}
        assert client.post("/epcis/queries", json=body, headers=auth).status_code == 201
        path = "/epcis/queries/all/subscriptions"
        mine = []
        for n in range(5):
            hook = {"dest": f"http://127.0.0.1:9/hook-{n}", "stream": True}
            r = client.post(path, json=hook, headers=auth)
            assert r.status_code == 201, r.text
            mine.append(r.json()["subscriptionID"])
            r = client.post(path, json=hook, headers=other)  # another party's, not listed
            assert r.status_code == 201, r.text
        whole = client.get(path, params={"perPage": "500"}, headers=auth).json()
        assert _ids(whole) == mine  # oldest first
        order = [(s["createdAt"], s["subscriptionID"]) for s in whole]
        assert order == sorted(order)
        for per_page in (1, 2, 4):  # 4: N-1 rows, then the last
            seen, pages = walk(repo, path, per_page, headers=auth)
            assert _ids(seen) == mine and pages == -(-len(mine) // per_page)
        for key in (["x"], [1, "y"], ["not a time", "y"]):
            r = client.get(path, params={"nextPageToken": encode_token(path, key)}, headers=auth)
            assert r.status_code == 400, (key, r.text)
        with statements(repo) as sql:
            r = client.get(path, params={"perPage": "2"}, headers=auth)
        assert _ids(r.json()) == mine[:2]
        reads = [s for s in sql if "FROM epcis_subscriptions" in s and "ORDER BY" in s]
        assert len(reads) == 1 and "LIMIT" in reads[0], sql

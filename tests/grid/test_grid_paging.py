"""The grids and a grid's businesses page in SQL (by grid id, by party id): every row once
in the unpaged order, and a page is read with a LIMIT (a grid's business counts, grades and
visits for that page only)."""

from __future__ import annotations

from gridharness import make_grid
from keysetharness import check_list, statements, walk
from recordharness import Env

from foodtrace.api.paging import encode_token


def test_a_grids_businesses_page_in_sql_by_party_id(env: Env) -> None:
    g = make_grid(env, shops=5)
    make_grid(env, "cm-02", shops=1)  # another grid's business is not listed
    path = f"/api/v1/grids/{g.grid_id}/businesses"
    found = check_list(env, path, 5, [1], headers=g.officer.headers)
    assert [b["party_id"] for b in found] == sorted(s.party_id for s in g.shops)

    token = encode_token(path, [""])  # a key no row has: every party id sorts after it
    with statements(env) as sql:
        r = env.client.get(
            path, params={"perPage": "1", "nextPageToken": token}, headers=g.officer.headers
        )
    assert r.status_code == 200 and r.json() == found[:1]
    reads = [s for s in sql if "FROM grid_members" in s and "ORDER BY" in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], sql


def test_the_grids_page_in_sql_by_grid_id(env: Env) -> None:
    cases = [make_grid(env, grid_id, shops=0) for grid_id in ("g-3", "g-1", "g-4", "g-2")]
    who = cases[0].officer.headers
    path = "/api/v1/grids"
    found = check_list(env, path, 4, [1], headers=who)
    assert [g["grid_id"] for g in found] == ["g-1", "g-2", "g-3", "g-4"]
    mine, pages = walk(env, path, 1, params={"mine": "true"}, headers=who)
    assert [g["grid_id"] for g in mine] == ["g-3"] and pages == 1

    token = encode_token(path, ["g-2"])  # continues after a grid id that is listed
    with statements(env) as sql:
        r = env.client.get(path, params={"perPage": "1", "nextPageToken": token}, headers=who)
    assert r.status_code == 200 and r.json() == found[2:3]
    reads = [s for s in sql if "FROM grids" in s and "ORDER BY" in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], sql

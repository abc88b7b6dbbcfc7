"""A grid's businesses page in SQL by party id: every business once in the unpaged order,
and a page reads its members with a LIMIT (grades and visits for that page only)."""

from __future__ import annotations

from gridharness import make_grid
from keysetharness import check_list, statements
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

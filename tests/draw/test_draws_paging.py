"""The public list of draws pages in SQL, newest commitment first: every draw once in the
unpaged order (with and without a period), and a page is one LIMITed read."""

from __future__ import annotations

from keysetharness import check_list, statements
from recordharness import Env

from foodtrace.api.paging import encode_token
from foodtrace.draw.blocks import ChainBlocks
from foodtrace.ledger.chain import Chain


def test_draws_page_in_sql_newest_commitment_first(env: Env, chain: Chain) -> None:
    env.client.app.state.draw_blocks = ChainBlocks(chain.w3)  # type: ignore[attr-defined]
    for _ in range(2):
        env.add_party("restaurant")
    env.add_party("inspector")
    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    for n, period in enumerate(("2026-10", "2026-11", "2026-11", "2026-12")):
        request = {
            "draw_id": f"SSJ-P{n}",
            "period": period,
            "rule": {"kinds": ["restaurant"]},
            "merchants_count": 1,
            "inspectors_per_merchant": 1,
            "blocks_ahead": 2,
        }
        r = env.client.post("/api/v1/draws/proposals", json=request, headers=env.regulator.headers)
        assert r.status_code == 200, r.text
        r = env.regulator.post("/api/v1/draws", "draw.commit", r.json())
        assert r.status_code == 201, r.text

    path = "/api/v1/draws"
    draws = check_list(env, path, 4, ["x"])
    assert [d["draw_id"] for d in draws] == ["SSJ-P3", "SSJ-P2", "SSJ-P1", "SSJ-P0"]
    november = check_list(env, path, 2, ["x"], params={"period": "2026-11"})
    assert [d["draw_id"] for d in november] == ["SSJ-P2", "SSJ-P1"]

    below = encode_token(path, [2**62])  # a key no row has: every draw is older
    with statements(env) as sql:
        r = env.client.get(path, params={"perPage": "1", "nextPageToken": below})
    assert r.status_code == 200 and r.json() == draws[:1]
    reads = [s for s in sql if "FROM draws" in s and "ORDER BY" in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], sql

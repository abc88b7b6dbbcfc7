"""The complaints a handler owns page in SQL, newest first (ties: tracking number
descending), also with ``open=true`` filtered in SQL: every complaint once in the unpaged
order, and a page is one LIMITed read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gridharness import make_grid
from keysetharness import statements, walk
from recordharness import Actor, Env

from foodtrace.api.paging import encode_token
from foodtrace.complaint.schemas import Category, ComplaintIn
from foodtrace.complaint.service import file_complaint
from foodtrace.store.db import session_factory

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
PATH = "/api/v1/complaints-owned"


def _file(env: Env, shop: Actor, at: datetime) -> str:
    data = ComplaintIn(merchant_id=shop.party_id, category=Category.HYGIENE, description="脏")
    return file_complaint(env.log, session_factory(env.log.engine), env.settings, data, now=at)


def _numbers(rows: list[dict[str, Any]]) -> list[str]:
    return [row["tracking_number"] for row in rows]


def _confirm(who: Actor, tracking: str, capacity: str) -> None:
    body = {"tracking_number": tracking, "capacity": capacity, "confirmed_at": T0.isoformat()}
    r = who.post(f"/api/v1/complaints/{tracking}/confirmations", "complaint.confirm", body)
    assert r.status_code == 201, r.text


def test_owned_complaints_page_in_sql_newest_first(env: Env) -> None:
    g = make_grid(env, shops=2)
    minutes = (0, 30, 30, 10, 50)  # a tie at 30
    filed = [
        (T0 + timedelta(minutes=m), _file(env, g.shops[n % 2], T0 + timedelta(minutes=m)))
        for n, m in enumerate(minutes)
    ]
    make_grid(env, "cm-02", shops=1)
    expected = [number for _, number in sorted(filed, reverse=True)]
    who = g.worker.headers

    whole = env.client.get(PATH, params={"perPage": "500"}, headers=who)
    assert whole.status_code == 200 and _numbers(whole.json()) == expected
    for per_page in (1, 2, 4):
        seen, pages = walk(env, PATH, per_page, headers=who)
        assert _numbers(seen) == expected and pages == -(-len(expected) // per_page)
    by_grid, _ = walk(env, PATH, 2, params={"grid_id": g.grid_id}, headers=who)
    assert _numbers(by_grid) == expected

    # closed (both confirmations and a rating): left out of open=true, in SQL
    closed = expected[1]
    _confirm(g.officer, closed, "officer")
    _confirm(g.worker, closed, "grid_worker")
    r = env.client.post(f"/api/v1/complaints/{closed}/rating", json={"rating": 5})
    assert r.status_code == 201, r.text
    still_open, _ = walk(env, PATH, 1, params={"open": "true"}, headers=who)
    assert _numbers(still_open) == [n for n in expected if n != closed]

    for key in (["x"], [1, "y"], ["not a time", "y"]):
        r = env.client.get(PATH, params={"nextPageToken": encode_token(PATH, key)}, headers=who)
        assert r.status_code == 400, (key, r.text)
    later = encode_token(PATH, [(T0 + timedelta(days=1)).isoformat(), ""])  # no row has it
    with statements(env) as sql:
        r = env.client.get(PATH, params={"perPage": "2", "nextPageToken": later}, headers=who)
    assert r.status_code == 200 and _numbers(r.json()) == expected[:2]
    reads = [s for s in sql if "FROM complaint_routes" in s and "ORDER BY" in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], sql

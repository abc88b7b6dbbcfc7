"""The red and black lists page in SQL on (since, party id), newest listing first: walked
page by page they give every listed party exactly once, in the unpaged order, the HTML pages
follow the same cursor, and the database is asked for one page (a LIMIT), not every grade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keysetharness import statements
from recordharness import Env, assert_problem, pointers

from foodtrace.api.paging import TOKEN_HEADER, encode_token
from foodtrace.config import LIST_MAX_PER_PAGE
from foodtrace.grading.flows import local_day

TODAY = local_day()


def _grade(env: Env, party_id: str, grade: str, days_ago: int) -> None:
    body = {
        "party_id": party_id,
        "grade": grade,
        "effective_on": (TODAY - timedelta(days=days_ago)).isoformat(),
        "reason": "季度评定",
    }
    r = env.regulator.post("/api/v1/grades", "grade.set", body)
    assert r.status_code == 201, r.text


def _penalty(env: Env, party_id: str, n: int, days_ago: int) -> None:
    body = {
        "party_id": party_id,
        "decision_number": f"沪市监处〔2026〕P{n}号",
        "decided_on": (TODAY - timedelta(days=days_ago)).isoformat(),
        "amount": "20000",
        "severity": "serious",
        "reason": "使用非食品原料加工食品",
    }
    r = env.regulator.post("/api/v1/penalties", "penalty.record", body)
    assert r.status_code == 201, r.text


def _walk(env: Env, path: str, per_page: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(50):
        params = {"perPage": str(per_page)} | ({"nextPageToken": token} if token else {})
        r = env.client.get(path, params=params)
        assert r.status_code == 200, r.text
        rows = r.json()["parties"]
        seen += rows
        token = r.headers.get(TOKEN_HEADER)
        if token is None:
            assert "link" not in r.headers
            return seen
        assert len(rows) == per_page
    raise AssertionError(f"{path} does not end")


def _whole(env: Env, kind: str) -> list[dict[str, Any]]:
    r = env.client.get(f"/api/v1/lists/{kind}", params={"perPage": str(LIST_MAX_PER_PAGE)})
    assert r.status_code == 200 and TOKEN_HEADER not in r.headers, r.text
    parties: list[dict[str, Any]] = r.json()["parties"]
    return parties


def test_the_lists_page_in_sql_each_party_once_newest_first(env: Env) -> None:
    shops = [env.add_party("restaurant", name=f"餐厅{n}").party_id for n in range(9)]
    # red: five A grades, two pairs tied on the day; one A later downgraded (not listed)
    red_days = dict(zip(shops[:5], (5, 3, 3, 7, 7), strict=True))
    for shop, days_ago in red_days.items():
        _grade(env, shop, "A", days_ago)
    _grade(env, shops[5], "A", 9)
    _grade(env, shops[5], "B", 1)
    # black: D grades, serious penalties, and one party with both (listed since the earlier)
    _grade(env, shops[6], "D", 4)
    _grade(env, shops[7], "D", 2)
    _penalty(env, shops[7], 1, 6)
    _penalty(env, shops[8], 2, 4)
    _penalty(env, shops[8], 3, 1)

    expected = {
        "red": {shop: TODAY - timedelta(days=d) for shop, d in red_days.items()},
        "black": {
            shops[6]: TODAY - timedelta(days=4),
            shops[7]: TODAY - timedelta(days=6),
            shops[8]: TODAY - timedelta(days=4),
        },
    }
    for kind, since in expected.items():
        path = f"/api/v1/lists/{kind}"
        whole = _whole(env, kind)
        assert {p["party_id"]: p["since"] for p in whole} == {
            pid: day.isoformat() for pid, day in since.items()
        }
        order = [(p["since"], p["party_id"]) for p in whole]
        assert order == sorted(order, reverse=True)  # newest listing first, ties by id
        for per_page in (1, 2, len(whole) - 1):  # N+1 rows at the largest
            seen = _walk(env, path, per_page)
            assert seen == whole, (kind, per_page)
            assert len({p["party_id"] for p in seen}) == len(seen)  # each exactly once
        # the first page is read with a LIMIT, not every grade row cut in memory
        with statements(env) as sql:
            r = env.client.get(path, params={"perPage": "2"})
        assert r.status_code == 200 and r.json()["parties"] == whole[:2]
        reads = [s for s in sql if "ORDER BY" in s and "min(" in s.lower()]
        assert len(reads) == 1 and "LIMIT" in reads[0], sql

    [both] = [p for p in _whole(env, "black") if p["party_id"] == shops[7]]
    assert [r["reason"][:4] for r in both["reasons"]] == ["严重违法", "信用等级"]  # by day


def test_the_list_pages_follow_the_cursor_and_refuse_a_foreign_key(env: Env) -> None:
    shops = [env.add_party("restaurant", name=f"守信{n}").party_id for n in range(3)]
    for n, shop in enumerate(shops):
        _grade(env, shop, "A", n)
    whole = _whole(env, "red")
    names: list[str] = []
    url: str | None = "/lists/red?perPage=1"
    while url is not None:
        r = env.client.get(url)
        assert r.status_code == 200 and r.text.count('class="card listed"') == 1
        names += [p["name"] for p in whole if f"<b>{p['name']}</b>" in r.text]
        link = r.headers.get("link")
        url = link[1 : link.index(">")] if link else None
        assert len(names) <= len(whole)
    assert names == [p["name"] for p in whole]

    path = "/api/v1/lists/red"
    for key in (["x"], [1, "p"], ["not a day", "p"]):
        r = env.client.get(path, params={"nextPageToken": encode_token(path, key)})
        assert_problem(r, 400)
        assert pointers(r) == {"/query/nextPageToken"}
    above = encode_token(path, [(TODAY + timedelta(days=1)).isoformat(), ""])
    r = env.client.get(path, params={"perPage": "1", "nextPageToken": above})
    assert r.status_code == 200 and r.json()["parties"] == whole[:1]  # a key no row has

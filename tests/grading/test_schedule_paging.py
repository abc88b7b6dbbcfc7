"""The inspection schedule pages by a keyset on its order (most overdue first, then due day,
then party id): walked page by page it is the unpaged list, ties on the due day broken by
party id, a business graded between two pages shows up on a later page if it sorts after
the cursor (and not at all if before), and a token for a place no business holds continues
after it. Both databases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from keysetharness import check_list, walk
from recordharness import Actor, Env, assert_problem, pointers

from foodtrace.api.paging import TOKEN_HEADER, encode_token
from foodtrace.grading import policyfile
from foodtrace.grading.flows import local_day

TODAY = local_day()
PATH = "/api/v1/inspections/schedule"
POLICY = policyfile.load()


def _graded(env: Env, on: date, grade: str = "C") -> Actor:
    """A business never inspected, first graded one interval of its grade before ``on``
    (by hand): due that day."""
    shop = env.add_party("restaurant")
    since = on - timedelta(days=POLICY.frequency[grade].inspection_interval_days)
    body = {"party_id": shop.party_id, "grade": grade, "effective_on": since.isoformat()}
    r = env.regulator.post("/api/v1/grades", "grade.set", body | {"reason": "测试"})
    assert r.status_code == 201, r.text
    return shop


def _key(item: dict[str, Any]) -> tuple[int, str, str]:
    rank = {"overdue": 0, "due": 1, "scheduled": 2}[item["status"]]
    return (rank, item["due_on"], item["party_id"])


def test_the_schedule_walks_in_its_order_with_ties(env: Env) -> None:
    inspector = env.add_party("inspector")
    days = [TODAY - timedelta(days=30), TODAY - timedelta(days=30), TODAY - timedelta(days=3)]
    days += [TODAY, TODAY, TODAY - timedelta(days=3)]  # two ties on a day, overdue and due
    shops = [_graded(env, d) for d in days]
    found = check_list(env, PATH, len(shops), [1], headers=inspector.headers)
    assert [i["party_id"] for i in found] == [
        i["party_id"] for i in sorted(found, key=_key)
    ]  # the documented order, ties by party id
    assert {i["party_id"] for i in found} >= {s.party_id for s in shops}
    tied = [i["party_id"] for i in found if i["due_on"] == days[0].isoformat()]
    assert len(tied) == 2 and tied == sorted(tied)
    overdue, pages = walk(env, PATH, 2, params={"status": "overdue"}, headers=inspector.headers)
    assert pages == 2
    assert overdue == [i for i in found if i["status"] == "overdue"] and len(overdue) == 4


def test_a_business_graded_between_pages_is_listed_once_in_its_place(env: Env) -> None:
    inspector = env.add_party("inspector")
    for d in (TODAY - timedelta(days=20), TODAY - timedelta(days=10), TODAY - timedelta(days=5)):
        _graded(env, d)
    first = env.client.get(PATH, params={"perPage": "2"}, headers=inspector.headers)
    assert first.status_code == 200 and len(first.json()) == 2
    cursor = _key(first.json()[-1])
    _graded(env, TODAY - timedelta(days=40))  # before the cursor: not on a later page
    late = _graded(env, TODAY - timedelta(days=1))  # after it: on a later page, once
    seen = list(first.json())
    token = first.headers[TOKEN_HEADER]
    while token:
        r = env.client.get(
            PATH, params={"perPage": "2", "nextPageToken": token}, headers=inspector.headers
        )
        assert r.status_code == 200, r.text
        seen += r.json()
        token = r.headers.get(TOKEN_HEADER, "")
    now = env.client.get(PATH, params={"perPage": "500"}, headers=inspector.headers).json()
    assert seen[2:] == [i for i in now if _key(i) > cursor]
    assert [i["party_id"] for i in seen].count(late.party_id) == 1


def test_a_token_for_a_place_no_business_holds_continues_after_it(env: Env) -> None:
    inspector = env.add_party("inspector")
    shops = [_graded(env, TODAY - timedelta(days=n)) for n in (9, 7)]
    whole = env.client.get(PATH, headers=inspector.headers).json()
    assert [i["party_id"] for i in whole] == [s.party_id for s in shops]
    between = encode_token(PATH, ["overdue", (TODAY - timedelta(days=8)).isoformat(), ""])
    r = env.client.get(PATH, params={"nextPageToken": between}, headers=inspector.headers)
    assert r.status_code == 200 and r.json() == whole[1:]  # a row was not needed to continue
    for wrong in (["late", TODAY.isoformat(), ""], ["due", "not a day", ""], ["due", 1, ""]):
        bad = encode_token(PATH, wrong)
        refused = env.client.get(PATH, params={"nextPageToken": bad}, headers=inspector.headers)
        assert_problem(refused, 400)
        assert pointers(refused) == {"/query/nextPageToken"}

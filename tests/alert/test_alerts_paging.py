"""The alerts list pages by a keyset on its order (kind, business, subject, detail, since):
walked page by page it is the unpaged list, ties on (kind, business, subject) broken by the
detail, an alert raised between two pages shows up on a later page if it sorts after the
cursor, a token for a place no alert holds continues after it, and a page leaves unread the
sources that cannot reach it (those before the cursor's kind, and those after a full page).
Both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from gridharness import make_grid
from keysetharness import check_list, statements
from recordharness import Actor, Env, assert_problem, pointers
from supplychain import captured, event, lot_class, member, product_lot

from foodtrace.alert.rules import Kind
from foodtrace.api.paging import TOKEN_HEADER, encode_token
from foodtrace.grading.flows import local_day

TODAY = local_day()
PATH = "/api/v1/alerts"
RANK = {k.value: i for i, k in enumerate(Kind)}


def _licence(env: Env, shop: Actor, n: int, until: date) -> None:
    body = {
        "number": f"JY2310115{n:07d}",
        "kind": "food_business",
        "holder": shop.party_id,
        "scope": "热食类食品制售",
        "issuer": "崇明区市场监督管理局",
        "valid_from": (TODAY - timedelta(days=365)).isoformat(),
        "valid_until": until.isoformat(),
    }
    r = env.regulator.post("/api/v1/licences", "licence.issue", body)
    assert r.status_code == 201, r.text


def _key(a: dict[str, Any]) -> tuple[int, str, str, str, str]:
    return (RANK[a["kind"]], a["party_id"] or "", a["subject"], a["detail"], a["since"] or "")


def _two_readings(env: Env) -> None:
    """One cold-chain event with two readings above 8 °C: two alerts with one subject."""
    producer = member(env, "producer")
    code, lot = product_lot(producer, 1, "L1")
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    readings = [{"type": "Temperature", "value": v, "uom": "CEL"} for v in (9.6, 12.5)]
    captured(
        env,
        producer,
        [
            event(
                "ObjectEvent",
                when,
                action="OBSERVE",
                bizStep="storing",
                quantityList=[{"epcClass": lot_class(code, lot)}],
                sensorElementList=[{"sensorReport": readings}],
            )
        ],
    )


def test_the_alerts_walk_in_their_order_with_ties(env: Env) -> None:
    g = make_grid(env, shops=3)
    for n, shop in enumerate(g.shops):  # two licences per shop: ties on (kind, business)
        _licence(env, shop, 2 * n, TODAY + timedelta(days=10))
        _licence(env, shop, 2 * n + 1, TODAY - timedelta(days=1))
    _two_readings(env)
    who = g.officer.headers
    found = check_list(env, PATH, 8, [1], headers=who)
    assert [_key(a) for a in found] == sorted(_key(a) for a in found)
    excursions = [a for a in found if a["kind"] == "temperature_excursion"]
    assert len(excursions) == 2 and excursions[0]["subject"] == excursions[1]["subject"]
    by_kind = check_list(env, PATH, 3, [1], params={"kind": "licence_expiring"}, headers=who)
    assert by_kind == [a for a in found if a["kind"] == "licence_expiring"]
    mine = check_list(env, PATH, 6, [1], params={"grid_id": g.grid_id}, headers=who)
    assert mine == [a for a in found if a["grid_id"] == g.grid_id]


def test_an_alert_raised_between_pages_is_listed_once_in_its_place(env: Env) -> None:
    g = make_grid(env, shops=3)
    for n, shop in enumerate(g.shops):
        _licence(env, shop, n, TODAY + timedelta(days=10))
    who = g.officer.headers
    first = env.client.get(PATH, params={"perPage": "2"}, headers=who)
    assert first.status_code == 200 and len(first.json()) == 2
    cursor = _key(first.json()[-1])
    _licence(env, g.shops[0], 10, TODAY + timedelta(days=5))  # sorts before the cursor
    _licence(env, g.shops[2], 11, TODAY + timedelta(days=5))  # after it
    seen, token = list(first.json()), first.headers[TOKEN_HEADER]
    while token:
        r = env.client.get(PATH, params={"perPage": "2", "nextPageToken": token}, headers=who)
        assert r.status_code == 200, r.text
        seen += r.json()
        token = r.headers.get(TOKEN_HEADER, "")
    now = env.client.get(PATH, params={"perPage": "500"}, headers=who).json()
    assert seen[2:] == [a for a in now if _key(a) > cursor]
    assert sum(a["subject"] == "JY23101150000011" for a in seen) == 1


def test_a_page_reads_only_the_sources_that_can_reach_it(env: Env) -> None:
    g = make_grid(env, shops=2)
    for n, shop in enumerate(g.shops):
        _licence(env, shop, n, TODAY + timedelta(days=10))
    _two_readings(env)
    who = g.officer.headers
    whole = env.client.get(PATH, headers=who).json()
    with statements(env) as sql:  # a full first page of licences: no later source is read
        r = env.client.get(PATH, params={"perPage": "1"}, headers=who)
    assert r.json() == whole[:1] and TOKEN_HEADER in r.headers
    assert not [s for s in sql if "epcis_sensor_readings" in s], sql
    after = encode_token(PATH, ["temperature_excursion", "", "", "", ""])  # no alert is there
    with statements(env) as sql:
        r = env.client.get(PATH, params={"nextPageToken": after}, headers=who)
    assert r.status_code == 200, r.text
    assert r.json() == [a for a in whole if RANK[a["kind"]] >= RANK["temperature_excursion"]]
    assert not [s for s in sql if "FROM licences" in s], sql  # before the cursor's kind
    for wrong in (["nonsense", "", "", "", ""], ["licence_expiring", 1, "", "", ""]):
        bad = encode_token(PATH, wrong)
        refused = env.client.get(PATH, params={"nextPageToken": bad}, headers=who)
        assert_problem(refused, 400)
        assert pointers(refused) == {"/query/nextPageToken"}

"""The demo city's cast (pure): three grids with their staff, ~200 businesses of every kind
with the 三小 among them, valid identifiers, licences near or past their end, a year of
visits and two months of complaints, the same for the same seeding day."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from foodtrace.demo.citycast import city
from foodtrace.party.schemas import LicenceBody, PartyBody

TODAY = date(2026, 12, 2)


def test_three_grids_two_hundred_businesses_of_every_kind() -> None:
    c = city(TODAY)
    assert [g.grid_id for g in c.grids] == ["cq-01", "cq-02", "cq-03"]
    assert len({p.party_id for p in c.staff}) == 7  # 3 officers, 3 grid workers, 1 head
    assert 190 <= len(c.businesses) <= 210
    kinds = Counter(b.kind for b in c.businesses)
    assert set(kinds) == {"restaurant", "retailer", "processor", "producer"}
    assert {b.small for b in c.businesses} == {"小餐饮", "小食杂", "小作坊", None}
    per_grid = Counter(b.grid_id for b in c.businesses)
    assert set(per_grid) == {"cq-01", "cq-02", "cq-03"} and min(per_grid.values()) >= 60
    assert len({b.party_id for b in c.businesses}) == len(c.businesses)


def test_identifiers_and_licences_pass_the_entry_schemas() -> None:
    c = city(TODAY)
    for b in c.businesses:
        PartyBody(party_id=b.party_id, name=b.name, kind=b.kind, credit_code=b.party_id)
        LicenceBody(
            number=b.licence,
            kind=b.licence_kind,
            holder=b.party_id,
            scope=b.scope,
            issuer="x",
            valid_from=b.valid_from,
            valid_until=b.valid_until,
        )
    ends = [b.valid_until for b in c.businesses]
    assert sum(TODAY <= d <= TODAY + timedelta(days=30) for d in ends) >= 5
    assert sum(d < TODAY for d in ends) >= 1


def test_a_year_of_visits_and_complaints_in_every_state() -> None:
    c = city(TODAY)
    assert all(TODAY - timedelta(days=365) <= v.on < TODAY for v in c.visits)
    assert {v.result for v in c.visits} == {"合格", "基本合格", "不合格"}
    assert {v.party_id for v in c.visits} == {b.party_id for b in c.businesses}
    assert any(not v.acknowledged for v in c.visits)  # some unsigned: alerts
    states = Counter((x.answered, x.closed) for x in c.complaints)
    assert states[(False, False)] and states[(True, False)] and states[(True, True)]
    assert city(TODAY) == city(TODAY)

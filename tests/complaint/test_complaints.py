"""Complaints: filed by the public, logged without personal data, followed by tracking
number, answered against the 30-minute / 24-hour deadlines, contact erasable."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from recordharness import Env, assert_problem

from foodtrace.complaint.clocks import Deadlines, deadlines
from foodtrace.complaint.schemas import Status
from foodtrace.complaint.tracking import new_tracking_number, normalize_tracking_number
from foodtrace.trace import bundle, personal

PHONE = "13812345678"
TEXT = "凉菜里有头发，店员态度差"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TRACKING = re.compile(r"^TS-\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def _complaint(merchant_id: str, **kw: object) -> dict[str, object]:
    return {"merchant_id": merchant_id, "category": "hygiene", "description": TEXT} | kw


def test_round_trip_no_contact_in_log_and_erasure(env: Env) -> None:
    shop = env.add_party("restaurant")
    inspector = env.add_party("inspector")
    r = env.client.post("/api/v1/complaints", json=_complaint(shop.party_id, contact=PHONE))
    assert r.status_code == 201, r.text
    tracking = r.json()["tracking_number"]
    assert TRACKING.match(tracking)

    public = env.client.get(f"/api/v1/complaints/{tracking}")
    assert public.status_code == 200
    assert public.json()["status"] == "received" and public.json()["status_label"] == "已受理"
    assert PHONE not in public.text and TEXT not in public.text and "contact" not in public.text
    # read back with look-alike characters and lower case
    assert env.client.get(f"/api/v1/complaints/{tracking.lower()}").status_code == 200

    # the log holds commitments only
    listed = env.client.get("/api/v1/complaints", headers=inspector.headers).json()
    [item] = [c for c in listed if c["tracking_number"] == tracking]
    raw = env.log.record(item["entry_index"]).data.decode()
    assert PHONE not in raw and TEXT not in raw
    assert item["contact"] == "138****5678" and item["description"] == TEXT
    assert item["response_overdue"] is False
    entry = env.log.entry(item["entry_index"])
    assert entry.type == "complaint" and entry.author == env.settings.platform_author

    # the public may not list, a producer may not either
    assert_problem(env.client.get("/api/v1/complaints"), 401)
    assert_problem(env.client.get("/api/v1/complaints", headers=shop.headers), 403)

    # response then feedback; a second response conflicts
    url = f"/api/v1/complaints/{tracking}/updates"
    r = env.client.post(
        url, json={"stage": "response", "note": "已联系商家"}, headers=inspector.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "responded" and r.json()["responded_at"] is not None
    r = env.client.post(url, json={"stage": "response", "note": "again"}, headers=inspector.headers)
    assert_problem(r, 409)
    r = env.client.post(
        url, json={"stage": "feedback", "note": "已责令整改"}, headers=env.regulator.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    assert env.client.get(f"/api/v1/complaints/{tracking}").json()["status"] == "closed"

    # erasure: only a regulator; the contact is gone, every proof still verifies
    erase = f"/api/v1/complaints/{tracking}/contact"
    assert_problem(env.client.delete(erase, headers=inspector.headers), 403)
    r = env.client.delete(erase, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["contact"] == "已删除" and r.json()["contact_erased"] is True
    proof = env.client.get(f"/api/v1/records/{item['entry_index']}").json()
    bundle.from_text(proof["bundle"]).verify(
        bytes.fromhex(proof["leaf_hash"]), [proof["verifier_key"]]
    )
    assert env.log.audit().ok


def test_description_commitment_opens(env: Env) -> None:
    shop = env.add_party("restaurant")
    r = env.client.post("/api/v1/complaints", json=_complaint(shop.party_id, category="异物"))
    assert r.status_code == 201, r.text
    [item] = env.client.get("/api/v1/complaints", headers=env.regulator.headers).json()
    assert item["category"] == "foreign_matter" and item["contact"] is None
    body = env.log.entry(item["entry_index"]).body
    assert "contact_commitment" not in body
    from sqlalchemy.orm import Session

    from foodtrace.complaint.models import Complaint

    with Session(env.log.engine) as session:
        row = session.get(Complaint, r.json()["tracking_number"])
        assert row is not None and row.description_salt is not None
        assert personal.verify_commitment(
            body["description_commitment"], TEXT, row.description_salt, "complaint"
        )


def test_refusals(env: Env) -> None:
    shop = env.add_party("restaurant")
    r = env.client.post("/api/v1/complaints", json=_complaint("nobody-here"))
    assert {e["pointer"] for e in assert_problem(r, 422)["errors"]} == {"/body/merchant_id"}
    r = env.client.post("/api/v1/complaints", json=_complaint(shop.party_id, category="bad"))
    assert "/body/category" in {e["pointer"] for e in assert_problem(r, 422)["errors"]}
    r = env.client.post(
        "/api/v1/complaints", json=_complaint(shop.party_id, description="很" * 20_000)
    )
    assert_problem(r, 413)
    assert_problem(env.client.get("/api/v1/complaints/TS-2026-0000-0000"), 404)


def test_rate_limit(env: Env) -> None:
    shop = env.add_party("restaurant")
    codes = [
        env.client.post("/api/v1/complaints", json=_complaint(shop.party_id)).status_code
        for _ in range(env.settings.complaint_rate_per_minute + 1)
    ]
    assert codes[:-1] == [201] * env.settings.complaint_rate_per_minute
    assert codes[-1] == 429


# --- pure -----------------------------------------------------------------------------------


def test_tracking_numbers_are_readable_and_random() -> None:
    numbers = {new_tracking_number(2026) for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(TRACKING.match(n) for n in numbers)
    assert new_tracking_number(2026, lambda n: bytes(n)) == "TS-2026-0000-0000"
    assert normalize_tracking_number("ts-2026-o1il-abcd") == "TS-2026-0111-ABCD"


@pytest.mark.parametrize(
    ("responded", "feedback", "now", "expected"),
    [
        (None, None, timedelta(minutes=29), (Status.RECEIVED, False, False)),
        (None, None, timedelta(minutes=31), (Status.RECEIVED, True, False)),
        (timedelta(minutes=10), None, timedelta(hours=23), (Status.RESPONDED, False, False)),
        (timedelta(minutes=10), None, timedelta(hours=25), (Status.RESPONDED, False, True)),
        (timedelta(minutes=45), None, timedelta(hours=1), (Status.RESPONDED, True, False)),
        (
            timedelta(minutes=5),
            timedelta(hours=2),
            timedelta(days=9),
            (Status.CLOSED, False, False),
        ),
        (None, timedelta(minutes=20), timedelta(days=9), (Status.CLOSED, False, False)),
        (
            timedelta(minutes=5),
            timedelta(hours=30),
            timedelta(days=9),
            (Status.CLOSED, False, True),
        ),
    ],
)
def test_deadlines(
    responded: timedelta | None,
    feedback: timedelta | None,
    now: timedelta,
    expected: tuple[Status, bool, bool],
) -> None:
    d = deadlines(
        T0,
        T0 + responded if responded is not None else None,
        T0 + feedback if feedback is not None else None,
        T0 + now,
    )
    assert isinstance(d, Deadlines)
    assert (d.status, d.response_overdue, d.feedback_overdue) == expected
    assert d.response_due == T0 + timedelta(minutes=30)
    assert d.feedback_due == T0 + timedelta(hours=24)


def test_overdue_list_with_fake_clock(env: Env) -> None:
    from sqlalchemy.orm import Session

    from foodtrace.complaint import service

    shop = env.add_party("restaurant")
    r = env.client.post("/api/v1/complaints", json=_complaint(shop.party_id))
    tracking = r.json()["tracking_number"]
    with Session(env.log.engine) as session:
        [item] = service.list_complaints(session)
        received = item.received_at
        assert service.list_complaints(session, now=received, overdue_only=True) == []
        later = received + timedelta(minutes=31)
        [late] = service.list_complaints(session, now=later, overdue_only=True)
        assert late.tracking_number == tracking and late.response_overdue
        assert not late.feedback_overdue


def test_the_complaints_list_pages_with_a_cursor(env: Env) -> None:
    shop = env.add_party("restaurant")
    for n in range(4):  # under the public rate limit of 5 a minute
        body = _complaint(shop.party_id, description=f"{TEXT} {n}")
        assert env.client.post("/api/v1/complaints", json=body).status_code == 201
    headers = env.regulator.headers
    whole = [
        c["tracking_number"] for c in env.client.get("/api/v1/complaints", headers=headers).json()
    ]
    assert len(whole) == 4
    seen: list[str] = []
    url = "/api/v1/complaints?perPage=3"
    while url:
        r = env.client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert len(r.json()) <= 3
        seen += [c["tracking_number"] for c in r.json()]
        token = r.headers.get("next-page-token")
        url = f"/api/v1/complaints?perPage=3&nextPageToken={token}" if token else ""
    assert seen == whole
    assert_problem(env.client.get("/api/v1/complaints?nextPageToken=e30", headers=headers), 400)

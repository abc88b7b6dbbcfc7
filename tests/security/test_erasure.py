"""Erasure as the law means it: the value is gone from the database file itself, the
erasure is a logged entry without any personal value, a refused erasure changes nothing,
and every proof still verifies."""

from __future__ import annotations

from pathlib import Path

from recordharness import Env, assert_problem
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.complaint.models import Complaint
from foodtrace.health.models import PersonalData
from foodtrace.trace import bundle

NAME = "欧阳娜娜"
ID_NUMBER = "510104199512250029"
PHONE = "13911112222"
DESCRIPTION = "凉菜里吃出头发，我叫钱多多，住在崇明区城桥镇八一路"


def _sqlite_bytes(env: Env) -> bytes:
    """The database file and its WAL, byte for byte (empty for PostgreSQL)."""
    url = env.settings.database_url
    if not url.startswith("sqlite"):
        return b""
    path = Path(url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def _certificate(env: Env) -> tuple[str, int]:
    shop = env.add_party("restaurant", custodial=True)
    cert = {
        "certificate_number": "沪健-E001",
        "holder_name": NAME,
        "holder_id_number": ID_NUMBER,
        "issuer": "崇明区疾控中心",
        "valid_from": "2026-01-01",
        "valid_until": "2099-01-01",
    }
    r = shop.post("/api/v1/health-certificates", "health.certificate.issue", cert)
    assert r.status_code == 201, r.text
    return cert["certificate_number"], r.json()["entry_index"]


def test_erased_certificate_data_is_gone_from_the_file_and_logged(env: Env) -> None:
    number, index = _certificate(env)
    sqlite = env.settings.database_url.startswith("sqlite")
    if sqlite:
        from foodtrace.store.redact import purge_sqlite_wal

        purge_sqlite_wal(env.log.engine)  # the values are in the main file now
        assert ID_NUMBER.encode() in _sqlite_bytes(env)  # the check below can fail

    url = f"/api/v1/health-certificates/{number}/personal-data"
    inspector = env.add_party("inspector")
    before = env.snapshot()
    for headers in ({}, inspector.headers):
        assert_problem(env.client.delete(url, headers=headers), 401 if not headers else 403)
    unknown = "/api/v1/health-certificates/none/personal-data"
    assert_problem(env.client.delete(unknown, headers=env.regulator.headers), 404)
    assert env.snapshot() == before

    size = env.log.size()
    r = env.client.delete(url + "?reason=本人申请删除", headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["holder"] == "已删除" and r.json()["holder_id_number"] == "已删除"

    # one logged erasure entry naming the commitments, without any personal value
    assert env.log.size() == size + 1
    erasure = env.log.entry(size)
    assert erasure.type == "personal.erase"
    assert (
        erasure.body["record"] == number and erasure.body["requested_by"] == env.regulator.party_id
    )
    assert erasure.body["reason"] == "本人申请删除"
    raw = env.log.record(size).data.decode()
    assert NAME not in raw and ID_NUMBER not in raw
    with Session(env.log.engine) as session:
        rows = session.scalars(
            select(PersonalData).where(PersonalData.commitment.in_(erasure.body["commitments"]))
        ).all()
        assert len(rows) == 2 and all(r.value is None and r.salt is None for r in rows)
        assert all(r.erased_by == env.regulator.party_id for r in rows)
    if sqlite:
        data = _sqlite_bytes(env)
        assert NAME.encode() not in data and ID_NUMBER.encode() not in data

    # erasing again logs nothing; the certificate's proof still verifies
    before = env.snapshot()
    assert env.client.delete(url, headers=env.regulator.headers).status_code == 200
    assert env.snapshot() == before
    proof = env.client.get(f"/api/v1/health-certificates/{number}").json()["proof"]
    bundle.from_text(proof["bundle"]).verify(
        bytes.fromhex(proof["leaf_hash"]), [proof["verifier_key"]]
    )
    assert proof["entry"]["body"]["holder_commitment"] in erasure.body["commitments"]
    assert index < size and env.log.audit().ok


def test_complaint_description_and_contact_are_erasable(env: Env) -> None:
    shop = env.add_party("restaurant")
    r = env.client.post(
        "/api/v1/complaints",
        json={
            "merchant_id": shop.party_id,
            "category": "hygiene",
            "description": DESCRIPTION,
            "contact": PHONE,
        },
    )
    assert r.status_code == 201, r.text
    tracking = r.json()["tracking_number"]
    with Session(env.log.engine) as session:
        row = session.get(Complaint, tracking)
        assert row is not None and row.description == DESCRIPTION  # kept beside the log
        assert DESCRIPTION not in env.log.record(row.entry_index).data.decode()

    url = f"/api/v1/complaints/{tracking}/personal-data"
    before = env.snapshot()
    assert_problem(env.client.delete(url, headers=shop.headers), 403)
    assert env.snapshot() == before

    size = env.log.size()
    r = env.client.delete(url, headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["description"] is None and r.json()["contact"] == "已删除"
    erasure = env.log.entry(size)
    assert erasure.type == "personal.erase" and len(erasure.body["commitments"]) == 2
    raw = env.log.record(size).data.decode()
    assert DESCRIPTION not in raw and PHONE not in raw
    with Session(env.log.engine) as session:
        row = session.get(Complaint, tracking)
        assert row is not None and row.description is None and row.description_salt is None
    if env.settings.database_url.startswith("sqlite"):
        data = _sqlite_bytes(env)
        assert DESCRIPTION.encode() not in data and PHONE.encode() not in data
    assert env.log.audit().ok

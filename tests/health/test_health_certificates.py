"""Health certificates: the name never enters the log, is shown masked, and can be erased
by a regulator while every proof still verifies."""

from __future__ import annotations

import base64

from recordharness import Env, assert_problem

from foodtrace.trace import bundle, personal

NAME = "张小三"
ID_NUMBER = "110105199001011234"


def _cert(number: str = "沪健-0001") -> dict[str, str]:
    return {
        "certificate_number": number,
        "holder_name": NAME,
        "holder_id_number": ID_NUMBER,
        "issuer": "崇明区疾控中心",
        "valid_from": "2026-01-01",
        "valid_until": "2099-01-01",
    }


def test_custodial_certificate_masks_and_erases(env: Env) -> None:
    shop = env.add_party("restaurant", custodial=True)
    r = shop.post("/api/v1/health-certificates", "health.certificate.issue", _cert())
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["record"]["holder"] == "张**"
    assert rec["record"]["holder_id_number"] == "1****************4"
    index = rec["entry_index"]
    raw = env.log.record(index).data.decode()
    assert NAME not in raw and ID_NUMBER not in raw
    assert "holder_name" not in rec["proof"]["entry"]["body"]

    # only a regulator erases
    r = env.client.delete(
        "/api/v1/health-certificates/沪健-0001/personal-data", headers=shop.headers
    )
    assert_problem(r, 403)
    r = env.client.delete(
        "/api/v1/health-certificates/沪健-0001/personal-data", headers=env.regulator.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["personal_data_erased"] is True and r.json()["holder"] == "已删除"

    got = env.client.get("/api/v1/health-certificates/沪健-0001").json()
    proof = got["proof"]
    assert got["record"]["holder"] == "已删除"
    bundle.from_text(proof["bundle"]).verify(
        bytes.fromhex(proof["leaf_hash"]), [proof["verifier_key"]]
    )
    assert env.log.audit().ok  # the whole log still recomputes after the erasure


def test_client_signed_certificate_with_opening(env: Env) -> None:
    shop = env.add_party("restaurant")
    commitment, salt = personal.commit(NAME, "name")
    body = {
        "certificate_number": "沪健-0002",
        "holder_commitment": commitment,
        "issuer": "崇明区疾控中心",
        "valid_from": "2026-01-01",
        "valid_until": "2099-01-01",
    }
    entry = shop.sign("health.certificate.issue", body)
    wrong = {"holder_name": "李四", "holder_salt": base64.b64encode(salt).decode()}
    before = env.snapshot()
    r = env.client.post(
        "/api/v1/health-certificates",
        json={"entry": entry, "personal": wrong},
        headers=shop.headers,
    )
    assert_problem(r, 422)
    assert env.snapshot() == before
    right = {"holder_name": NAME, "holder_salt": base64.b64encode(salt).decode()}
    r = env.client.post(
        "/api/v1/health-certificates",
        json={"entry": entry, "personal": right},
        headers=shop.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["record"]["holder"] == "张**"


def test_refused_certificate_keeps_no_personal_data(env: Env) -> None:
    lab = env.add_party("lab", custodial=True)
    before = env.snapshot()
    r = lab.post("/api/v1/health-certificates", "health.certificate.issue", _cert("沪健-0003"))
    assert_problem(r, 403)
    assert env.snapshot() == before

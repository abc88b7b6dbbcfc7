"""A retried client-signed health certificate (same entry, same opening) is refused with 409
and must leave the original's personal data exactly as it was."""

from __future__ import annotations

import base64

from recordharness import Env, assert_problem

from foodtrace.trace import personal

NAME = "王五"
ID_NUMBER = "310101198001012345"


def test_retry_refused_with_409_keeps_the_personal_data(env: Env) -> None:
    shop = env.add_party("restaurant")
    name_c, name_salt = personal.commit(NAME, "name")
    id_c, id_salt = personal.commit(ID_NUMBER, "id_number")
    body = {
        "certificate_number": "沪健-R001",
        "holder_commitment": name_c,
        "id_commitment": id_c,
        "issuer": "崇明区疾控中心",
        "valid_from": "2026-01-01",
        "valid_until": "2099-01-01",
    }
    payload = {
        "entry": shop.sign("health.certificate.issue", body),
        "personal": {
            "holder_name": NAME,
            "holder_salt": base64.b64encode(name_salt).decode(),
            "holder_id_number": ID_NUMBER,
            "id_salt": base64.b64encode(id_salt).decode(),
        },
    }
    r = env.client.post("/api/v1/health-certificates", json=payload, headers=shop.headers)
    assert r.status_code == 201, r.text
    assert r.json()["record"]["holder"] == "王*"

    before = env.snapshot()
    again = env.client.post("/api/v1/health-certificates", json=payload, headers=shop.headers)
    assert_problem(again, 409)
    assert env.snapshot() == before

    got = env.client.get("/api/v1/health-certificates/沪健-R001").json()["record"]
    assert got["personal_data_erased"] is False
    assert got["holder"] == "王*"
    assert got["holder_id_number"] == "3****************5"


def test_refused_certificate_leaves_no_personal_row(env: Env) -> None:
    """An entry refused by its projector (unknown author party is impossible here, so a
    duplicate number under a new commitment) stores no personal data of its own."""
    shop = env.add_party("restaurant", custodial=True)
    cert = {
        "certificate_number": "沪健-R002",
        "holder_name": "赵六",
        "issuer": "崇明区疾控中心",
        "valid_from": "2026-01-01",
        "valid_until": "2099-01-01",
    }
    r = shop.post("/api/v1/health-certificates", "health.certificate.issue", cert)
    assert r.status_code == 201, r.text
    before = env.snapshot()
    r = shop.post(
        "/api/v1/health-certificates", "health.certificate.issue", cert | {"holder_name": "孙七"}
    )
    assert_problem(r, 409)
    assert env.snapshot() == before

"""``POST /api/v1/parties`` is one logged group (the party's ``party.register`` and its
enrolment code's ``token.event``): a failure of the second entry stores nothing of the
request, the answer says so truthfully (507/503 problem+json), and the same request sent
again registers the party (201), whose code then enrols it."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from recordharness import Env, assert_problem, credit_code, register_and_enrol

from foodtrace.record import registry
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry

SQLITE_FULL = 13


def _disk_full() -> BaseException:
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = SQLITE_FULL
    return err


def _disconnect() -> BaseException:
    return psycopg.OperationalError("server closed the connection unexpectedly")


FAULTS: dict[str, tuple[Callable[[], BaseException], int]] = {
    "disk full": (_disk_full, 507),
    "database gone": (_disconnect, 503),
}


def _fail_token_events(
    monkeypatch: pytest.MonkeyPatch, fault: Callable[[], BaseException]
) -> list[int]:
    """Make the projection of every ``token.event`` (the group's second entry) raise
    ``fault``; the list counts the attempts."""
    registry.load_types()
    seen: list[int] = []

    def failing(_session: Any, index: int, _entry: Entry) -> None:
        seen.append(index)
        raise fault()

    spec = registry.spec("token.event")
    monkeypatch.setitem(registry._TYPES, "token.event", dataclasses.replace(spec, project=failing))
    return seen


def _registration(env: Env) -> tuple[str, dict[str, Any]]:
    code = credit_code()
    party_id = f"pro-{code}"
    body = {
        "party_id": party_id,
        "name": "崇明区测试农场",
        "kind": "producer",
        "credit_code": code,
        "public_keys": [keys.public_to_b64(keys.generate())],
    }
    return party_id, {"entry": env.regulator.sign("party.register", body)}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_second_entry_failing_stores_nothing_and_the_retry_registers(
    env: Env, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    make, status = FAULTS[fault]
    party_id, payload = _registration(env)
    before = env.snapshot()
    seen = _fail_token_events(monkeypatch, make)
    r = env.client.post("/api/v1/parties", json=payload, headers=env.regulator.headers)
    problem = assert_problem(r, status)
    assert r.headers["Retry-After"]
    if status == 507:
        assert "nothing of the request was stored" in problem["detail"]
    assert seen, "the fault was never reached: the test proves nothing"
    assert env.snapshot() == before  # no entry, no party, no key, no code row
    assert_problem(env.client.get(f"/api/v1/parties/{party_id}"), 404)

    monkeypatch.undo()  # the disk has room again / the database is back
    r = env.client.post("/api/v1/parties", json=payload, headers=env.regulator.headers)
    assert r.status_code == 201, r.text  # not 409: the first attempt left nothing behind
    created = r.json()
    assert created["entry_index"] == before["log"]
    assert env.log.entry(created["entry_index"] + 1).type == "token.event"  # same group
    enrol = {"party_id": party_id, "code": created["enrolment_code"]}
    assert env.client.post("/api/v1/enrolments", json=enrol).status_code == 201


def test_registration_and_its_code_event_are_consecutive_entries(env: Env) -> None:
    party_id, payload = _registration(env)
    size = env.log.size()
    r = env.client.post("/api/v1/parties", json=payload, headers=env.regulator.headers)
    assert r.status_code == 201, r.text
    assert env.log.size() == size + 2
    first, second = env.log.entry(size), env.log.entry(size + 1)
    assert (first.type, first.body["party_id"]) == ("party.register", party_id)
    assert second.type == "token.event"
    assert (second.body["action"], second.body["party_id"]) == ("enrolment_code.issue", party_id)


def test_duplicate_registration_keeps_the_first_code_live(env: Env) -> None:
    party_id, payload = _registration(env)
    r = env.client.post("/api/v1/parties", json=payload, headers=env.regulator.headers)
    assert r.status_code == 201, r.text
    code = r.json()["enrolment_code"]
    before = env.snapshot()
    again = env.client.post("/api/v1/parties", json=payload, headers=env.regulator.headers)
    assert_problem(again, 409)
    assert env.snapshot() == before  # the refused duplicate made no code, ended none
    r = env.client.post("/api/v1/enrolments", json={"party_id": party_id, "code": code})
    assert r.status_code == 201, r.text


def test_refused_custodial_registration_keeps_no_server_held_key(env: Env) -> None:
    code = credit_code()
    body = {
        "party_id": f"pro-{code}",
        "name": "无钥农场",
        "kind": "producer",
        "credit_code": code,
        "custodial": True,
    }
    before = env.snapshot()
    # The regulator has no server-held key to sign the plain body with: refused, 422.
    r = env.client.post("/api/v1/parties", json=body, headers=env.regulator.headers)
    assert_problem(r, 422)
    assert env.snapshot() == before  # the key made for the party was discarded


def test_non_regulator_registration_writes_nothing(env: Env) -> None:
    producer = env.add_party("producer")
    _, payload = _registration(env)
    before = env.snapshot()
    r = env.client.post("/api/v1/parties", json=payload, headers=producer.headers)
    assert_problem(r, 403)
    assert env.snapshot() == before
    assert register_and_enrol(env.client, env.regulator, payload["entry"])

"""The token lifecycle through the API: enrolment codes, expiry, issue, rotate, revoke, who
may do each, and that every change is logged without a secret."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from recordharness import Actor, Env, assert_problem, credit_code
from sqlalchemy import update
from sqlalchemy.orm import Session

from foodtrace.auth import service
from foodtrace.auth.models import ApiToken, EnrolmentCode
from foodtrace.trace import keys


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(env: Env, kind: str = "restaurant", party_id: str | None = None) -> httpx.Response:
    """A ``party.register`` as the regulator, answered as is."""
    code = credit_code()
    body = {
        "party_id": party_id or f"{kind[:3]}-{code}",
        "name": f"测试{kind}",
        "kind": kind,
        "credit_code": code,
    }
    return env.client.post(
        "/api/v1/parties",
        json={"entry": env.regulator.sign("party.register", body)},
        headers=env.regulator.headers,
    )


def registered(env: Env, kind: str = "restaurant") -> dict[str, Any]:
    r = register(env, kind)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def enrol(env: Env, party_id: str, code: str, **extra: Any) -> httpx.Response:
    return env.client.post("/api/v1/enrolments", json={"party_id": party_id, "code": code, **extra})


def enrolled(env: Env, kind: str = "restaurant") -> tuple[str, str]:
    """A registered party and its own token."""
    created = registered(env, kind)
    party_id = created["party"]["party_id"]
    r = enrol(env, party_id, created["enrolment_code"])
    assert r.status_code == 201, r.text
    return party_id, r.json()["token"]


def tokens_of(env: Env, party_id: str, token: str) -> httpx.Response:
    return env.client.get(f"/api/v1/parties/{party_id}/tokens", headers=bearer(token))


def assert_401(r: httpx.Response) -> None:
    body = assert_problem(r, 401)
    assert body["detail"] == "The API token is unknown, expired or revoked."


def test_registration_gives_a_code_that_enrols_once(env: Env) -> None:
    created = registered(env)
    assert "token" not in created
    code, party_id = created["enrolment_code"], created["party"]["party_id"]
    assert code.startswith("fte_")
    expires = datetime.fromisoformat(created["enrolment_code_expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    r = enrol(env, party_id, code, name="收银台手机")
    assert r.status_code == 201, r.text
    answer = r.json()
    token = answer["token"]
    meta = answer["metadata"]
    assert meta["name"] == "收银台手机" and meta["role"] == "producer" and not meta["revoked"]
    lifetime = datetime.fromisoformat(meta["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89, hours=23) < lifetime <= timedelta(days=90)

    listed = tokens_of(env, party_id, token)
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()] == [meta["id"]]

    again = assert_problem(enrol(env, party_id, code), 401)
    assert [e["pointer"] for e in again["errors"]] == ["/body/code"]


def test_a_code_works_only_for_its_own_party(env: Env) -> None:
    a, b = registered(env), registered(env)
    r = enrol(env, b["party"]["party_id"], a["enrolment_code"])
    assert_problem(r, 401)
    assert_problem(enrol(env, a["party"]["party_id"], "fte_" + "A" * 43), 401)
    assert_problem(enrol(env, "nobody", a["enrolment_code"]), 401)
    # the refusals did not use up the code
    assert enrol(env, a["party"]["party_id"], a["enrolment_code"]).status_code == 201


def test_an_expired_code_is_refused(env: Env) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(env.log.engine) as session, session.begin():
        issued = service.new_enrolment_code(session, "p1", now=t0, active=True)
        code_id = issued.row.id
    with Session(env.log.engine) as session, session.begin():
        late = t0 + service.CODE_TTL + timedelta(seconds=1)
        assert service.live_enrolment_code(session, "p1", issued.secret, now=late) is None
    with Session(env.log.engine) as session, session.begin():
        ok = service.live_enrolment_code(session, "p1", issued.secret, now=t0 + timedelta(days=6))
        assert ok is not None and ok.id == code_id

    created = registered(env)
    with Session(env.log.engine) as session, session.begin():
        session.execute(
            update(EnrolmentCode)
            .where(EnrolmentCode.party_id == created["party"]["party_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_problem(enrol(env, created["party"]["party_id"], created["enrolment_code"]), 401)


def test_a_regulator_reissues_a_lost_code(env: Env) -> None:
    created = registered(env)
    party_id = created["party"]["party_id"]
    producer = env.add_party("producer")
    path = f"/api/v1/parties/{party_id}/enrolment-codes"
    assert_problem(env.client.post(path, headers=producer.headers), 403)
    assert_problem(
        env.client.post("/api/v1/parties/nobody/enrolment-codes", headers=env.regulator.headers),
        404,
    )
    r = env.client.post(path, headers=env.regulator.headers)
    assert r.status_code == 201, r.text
    assert_problem(enrol(env, party_id, created["enrolment_code"]), 401)  # superseded
    assert enrol(env, party_id, r.json()["enrolment_code"]).status_code == 201


def test_tokens_expire(env: Env) -> None:
    party_id, token = enrolled(env)
    with Session(env.log.engine) as session:
        principal = service.authenticate(session, token)
        assert principal is not None
        row = session.get(ApiToken, principal.token_id)
        assert row is not None
        expires = service.aware(row.expires_at)
        assert service.authenticate(session, token, now=expires - timedelta(seconds=1))
        assert service.authenticate(session, token, now=expires) is None
    with Session(env.log.engine) as session, session.begin():
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == principal.token_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_401(tokens_of(env, party_id, token))


def test_a_short_lived_token_is_issued_on_request(env: Env) -> None:
    party_id, token = enrolled(env)
    r = env.client.post(
        f"/api/v1/parties/{party_id}/tokens",
        json={"name": "临时", "expires_in_days": 1},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    short = r.json()["token"]
    with Session(env.log.engine) as session:
        assert service.authenticate(session, short) is not None
        assert service.authenticate(session, short, now=datetime.now(UTC) + timedelta(hours=23))
        assert (
            service.authenticate(session, short, now=datetime.now(UTC) + timedelta(days=2)) is None
        )
    bad = env.client.post(
        f"/api/v1/parties/{party_id}/tokens",
        json={"name": "", "expires_in_days": 0, "colour": "red"},
        headers=bearer(token),
    )
    problem = assert_problem(bad, 422)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/body/name",
        "/body/expires_in_days",
        "/body/colour",
    }


def test_a_revoked_token_gets_401(env: Env) -> None:
    party_id, token = enrolled(env)
    r = env.client.post(
        f"/api/v1/parties/{party_id}/tokens", json={"name": "第二台"}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    second, second_id = r.json()["token"], r.json()["metadata"]["id"]
    assert tokens_of(env, party_id, second).status_code == 200
    gone = env.client.delete(
        f"/api/v1/parties/{party_id}/tokens/{second_id}", headers=bearer(token)
    )
    assert gone.status_code == 204, gone.text
    assert_401(tokens_of(env, party_id, second))
    again = env.client.delete(
        f"/api/v1/parties/{party_id}/tokens/{second_id}", headers=bearer(token)
    )
    assert_problem(again, 409)
    listed = {t["id"]: t["revoked"] for t in tokens_of(env, party_id, token).json()}
    assert listed[second_id] is True and list(listed.values()).count(False) == 1


def test_rotation_replaces_the_token(env: Env) -> None:
    party_id, token = enrolled(env)
    [meta] = tokens_of(env, party_id, token).json()
    r = env.client.post(
        f"/api/v1/parties/{party_id}/tokens/{meta['id']}/rotate", headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["metadata"]["name"] == meta["name"] and new["metadata"]["id"] != meta["id"]
    assert_401(tokens_of(env, party_id, token))
    listed = tokens_of(env, party_id, new["token"])
    assert listed.status_code == 200
    assert {t["id"]: t["revoked"] for t in listed.json()} == {
        meta["id"]: True,
        new["metadata"]["id"]: False,
    }
    stale = env.client.post(
        f"/api/v1/parties/{party_id}/tokens/{meta['id']}/rotate",
        json={"name": "x"},
        headers=bearer(new["token"]),
    )
    assert_problem(stale, 409)


def test_a_party_manages_only_its_own_tokens(env: Env) -> None:
    a, a_token = enrolled(env)
    b, b_token = enrolled(env)
    [a_meta] = tokens_of(env, a, a_token).json()
    base = f"/api/v1/parties/{a}/tokens"
    before = env.snapshot()
    refused = [
        env.client.get(base, headers=bearer(b_token)),
        env.client.post(base, json={"name": "偷"}, headers=bearer(b_token)),
        env.client.post(f"{base}/{a_meta['id']}/rotate", headers=bearer(b_token)),
        env.client.delete(f"{base}/{a_meta['id']}", headers=bearer(b_token)),
    ]
    for r in refused:
        assert_problem(r, 403)
    # a's token under b's own path is not b's to touch either
    assert_problem(
        env.client.delete(f"/api/v1/parties/{b}/tokens/{a_meta['id']}", headers=bearer(b_token)),
        404,
    )
    assert env.snapshot() == before
    assert tokens_of(env, a, a_token).status_code == 200
    assert_problem(env.client.get(base), 401)


def test_a_regulator_manages_any_partys_tokens(env: Env) -> None:
    party_id, token = enrolled(env, "lab")
    reg = env.regulator.headers
    base = f"/api/v1/parties/{party_id}/tokens"
    assert env.client.get(base, headers=reg).status_code == 200
    r = env.client.post(base, json={"name": "由监管签发"}, headers=reg)
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["role"] == "lab"  # the party's role, not the regulator's
    issued = r.json()["token"]
    assert tokens_of(env, party_id, issued).status_code == 200
    [first, _] = env.client.get(base, headers=reg).json()
    assert env.client.delete(f"{base}/{first['id']}", headers=reg).status_code == 204
    assert_401(tokens_of(env, party_id, token))
    assert_problem(env.client.get("/api/v1/parties/nobody/tokens", headers=reg), 404)


def test_last_use_is_marked_at_most_once_a_minute(env: Env) -> None:
    party_id, token = enrolled(env)
    [meta] = tokens_of(env, party_id, token).json()
    assert meta["last_used_at"] is not None  # the listing request itself
    [again] = tokens_of(env, party_id, token).json()
    assert again["last_used_at"] == meta["last_used_at"]
    with Session(env.log.engine) as session, session.begin():
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == meta["id"])
            .values(last_used_at=datetime.now(UTC) - timedelta(minutes=2))
        )
    tokens_of(env, party_id, token)
    [later] = tokens_of(env, party_id, token).json()
    assert datetime.fromisoformat(later["last_used_at"]) > datetime.fromisoformat(
        meta["last_used_at"]
    )


def test_enrolment_registers_the_partys_own_key(env: Env) -> None:
    created = registered(env, "producer")
    party_id = created["party"]["party_id"]
    key = keys.generate()
    r = enrol(env, party_id, created["enrolment_code"], public_key=keys.public_to_b64(key))
    assert r.status_code == 201, r.text
    assert r.json()["key_id"] == keys.key_id(key)
    party = env.client.get(f"/api/v1/parties/{party_id}").json()["record"]
    assert [k["key_id"] for k in party["keys"]] == [keys.key_id(key)]
    me = Actor(env.client, party_id, "producer", r.json()["token"], key)
    other = keys.public_to_b64(keys.generate())
    signed = me.post(
        "/api/v1/party-keys", "party.key.register", {"party_id": party_id, "public_key": other}
    )
    assert signed.status_code == 201, signed.text  # the party signs with the key it sent


def test_a_refused_key_leaves_the_code_usable(env: Env) -> None:
    created = registered(env, "producer")
    party_id = created["party"]["party_id"]
    key = keys.public_to_b64(keys.generate())
    assert enrol(env, party_id, created["enrolment_code"], public_key=key).status_code == 201
    r = env.client.post(
        f"/api/v1/parties/{party_id}/enrolment-codes", headers=env.regulator.headers
    )
    code = r.json()["enrolment_code"]
    before = env.log.size()
    refused = assert_problem(enrol(env, party_id, code, public_key=key), 409)  # registered
    assert [e["pointer"] for e in refused["errors"]] == ["/body/public_key"]
    assert env.log.size() == before
    assert enrol(env, party_id, code).status_code == 201


def test_the_platforms_author_id_cannot_be_registered(env: Env) -> None:
    before = env.log.size()
    r = register(env, party_id=env.settings.platform_author)
    problem = assert_problem(r, 409)
    assert [e["pointer"] for e in problem["errors"]] == ["/body/entry/body/party_id"]
    assert env.log.size() == before


def _secrets_of(values: list[str]) -> list[str]:
    """Each secret, its part after the scheme, and its SHA-256 as stored."""
    out = []
    for v in values:
        out += [v, v.split("_", 1)[1], hashlib.sha256(v.encode()).hexdigest()]
    return out


def test_every_change_is_logged_without_a_secret(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, as debugging
    start = env.log.size()
    created = registered(env)
    party_id, code = created["party"]["party_id"], created["enrolment_code"]
    first = enrol(env, party_id, code).json()
    base = f"/api/v1/parties/{party_id}/tokens"
    second = env.client.post(base, json={"name": "二"}, headers=bearer(first["token"])).json()
    third = env.client.post(
        f"{base}/{second['metadata']['id']}/rotate", headers=bearer(first["token"])
    ).json()
    env.client.delete(f"{base}/{third['metadata']['id']}", headers=env.regulator.headers)
    recovery = env.client.post(
        f"/api/v1/parties/{party_id}/enrolment-codes", headers=env.regulator.headers
    ).json()["enrolment_code"]

    events = []
    leaves = []
    for i in range(start, env.log.size()):
        entry = env.log.record(i).entry()
        leaves.append(env.log.record(i).data.decode())
        if entry.type == "token.event":
            events.append(entry.body)
    assert [(e["action"], e["by"]) for e in events] == [
        ("enrolment_code.issue", env.regulator.party_id),
        ("enrol", party_id),
        ("issue", party_id),
        ("rotate", party_id),
        ("revoke", env.regulator.party_id),
        ("enrolment_code.issue", env.regulator.party_id),
    ]
    assert events[3]["replaces"] == second["metadata"]["id"]
    assert events[3]["token_id"] == third["metadata"]["id"] and events[3]["name"] == "二"
    assert all(e["party_id"] == party_id and "expires_at" in e for e in events)

    secrets = _secrets_of([code, recovery, first["token"], second["token"], third["token"]])
    lines = [caplog.handler.format(r) for r in caplog.records] + leaves
    assert any("INSERT INTO api_tokens" in line for line in lines)  # statements were logged
    assert not [(s, line) for s in secrets for line in lines if s in line]


def test_openapi_states_what_the_token_routes_answer(env: Env) -> None:
    paths = env.client.get("/openapi.json").json()["paths"]
    tokens = "/api/v1/parties/{party_id}/tokens"
    expected = {
        ("/api/v1/enrolments", "post"): {"201", "401", "409", "422"},
        ("/api/v1/parties/{party_id}/enrolment-codes", "post"): {"201", "401", "403", "404"},
        (tokens, "get"): {"200", "401", "403", "404"},
        (tokens, "post"): {"201", "401", "403", "404", "422"},
        (tokens + "/{token_id}/rotate", "post"): {"201", "401", "403", "404", "409", "422"},
        (tokens + "/{token_id}", "delete"): {"204", "401", "403", "404", "409"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, method, sorted(responses))
    assert "content" not in paths[tokens + "/{token_id}"]["delete"]["responses"]["204"]
    created = paths["/api/v1/parties"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("/PartyCreated")
    schemas = env.client.get("/openapi.json").json()["components"]["schemas"]
    assert "enrolment_code" in schemas["PartyCreated"]["properties"]
    assert "token" not in schemas["PartyCreated"]["properties"]
    assert set(schemas["TokenOut"]["properties"]) >= {"id", "name", "expires_at", "last_used_at"}

"""A token listing's state (pending, active, revoked, expired), enrolment codes made live by
their logged event only, and ``init-regulator`` as one logged group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from recordharness import Env, credit_code
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.api.problems import Problem
from foodtrace.auth import codes, flows, service
from foodtrace.auth.models import ApiToken, EnrolmentCode, Role
from foodtrace.auth.schemas import TokenState, token_state
from foodtrace.party.models import Party
from foodtrace.party.service import init_regulator
from foodtrace.record.service import submit
from foodtrace.store.db import alembic_config, make_engine, migrate, session_factory
from foodtrace.store.log import MerkleLog
from foodtrace.trace.entry import Entry


class DiskFull(OSError):
    pass


def logger(env: Env) -> flows.Logger:
    return flows.Logger(env.log, session_factory(env.log.engine), env.settings)


def refuse_token_events(monkeypatch: pytest.MonkeyPatch, log: MerkleLog) -> list[list[Entry]]:
    """Make the log's append raise for every group with a ``token.event``; the refused."""
    real = log.append
    refused: list[list[Entry]] = []

    def append(group: Sequence[Any], projectors: Sequence[Any] = ()) -> range:
        if any(getattr(e, "type", None) == "token.event" for e in group):
            refused.append(list(group))
            raise DiskFull("no space left on device")
        return real(group, projectors)

    monkeypatch.setattr(log, "append", append)
    return refused


def code_rows(env: Env, party_id: str) -> list[EnrolmentCode]:
    with Session(env.log.engine) as session:
        stmt = select(EnrolmentCode).where(EnrolmentCode.party_id == party_id)
        return list(session.scalars(stmt.order_by(EnrolmentCode.id)))


def live_code(env: Env, party_id: str, code: str) -> bool:
    with Session(env.log.engine) as session:
        return service.live_enrolment_code(session, party_id, code) is not None


def registered(env: Env) -> tuple[str, str]:
    """A registered producer that has not enrolled yet, and its registration's code."""
    code = credit_code()
    body = {"party_id": f"pro-{code}", "name": "测试", "kind": "producer", "credit_code": code}
    r = env.client.post(
        "/api/v1/parties",
        json={"entry": env.regulator.sign("party.register", body)},
        headers=env.regulator.headers,
    )
    assert r.status_code == 201, r.text
    return body["party_id"], r.json()["enrolment_code"]


def test_the_listing_names_each_tokens_state(env: Env) -> None:
    party = env.add_party("producer")
    headers = party.headers
    base = f"/api/v1/parties/{party.party_id}/tokens"
    issued = env.client.post(base, json={"name": "第二台"}, headers=headers)
    assert issued.status_code == 201, issued.text
    assert issued.json()["metadata"]["state"] == "active"  # the answer reads the logged row
    assert issued.json()["metadata"]["activated_at"] is not None
    revoked = env.client.post(base, json={"name": "丢了"}, headers=headers).json()["metadata"]
    assert env.client.delete(f"{base}/{revoked['id']}", headers=headers).status_code == 204
    with Session(env.log.engine) as session, session.begin():
        pending = service.new_token(session, party.party_id, Role.PRODUCER, "未记录").row.id
        old = service.new_token(session, party.party_id, Role.PRODUCER, "过期", active=True).row
        old.expires_at, expired = datetime.now(UTC) - timedelta(seconds=1), old.id
    listed = {t["id"]: t["state"] for t in env.client.get(base, headers=headers).json()}
    assert listed[issued.json()["metadata"]["id"]] == "active"
    assert listed[revoked["id"]] == "revoked"
    assert listed[pending] == "pending"
    assert listed[expired] == "expired"
    schema = env.client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schema["TokenState"]["enum"]) == {"pending", "active", "revoked", "expired"}
    assert {"state", "activated_at"} <= set(schema["TokenOut"]["required"])


def test_revoked_wins_over_expired_and_pending_over_expired() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    past = now - timedelta(days=1)

    def row(**kw: Any) -> ApiToken:
        return ApiToken(expires_at=past, revoked_at=None, activated_at=None, **kw)

    assert token_state(row(), now) is TokenState.PENDING
    assert token_state(ApiToken(expires_at=past, revoked_at=past), now) is TokenState.REVOKED
    assert token_state(ApiToken(expires_at=past, activated_at=past), now) is TokenState.EXPIRED
    active = ApiToken(expires_at=now + timedelta(days=1), activated_at=past)
    assert token_state(active, now) is TokenState.ACTIVE


def test_a_code_the_log_refuses_leaves_the_earlier_one_working(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    party_id, first = registered(env)
    before = env.snapshot()
    refused = refuse_token_events(monkeypatch, env.log)
    with pytest.raises(DiskFull):
        codes.issue_code(logger(env), None, party_id)
    assert env.snapshot() == before  # the pending row went with its refused entry
    assert live_code(env, party_id, first)

    monkeypatch.undo()  # the refused entry comes in late: it finds no code to make live
    with pytest.raises(Problem) as late:
        submit(env.log, session_factory(env.log.engine), logger(env).principal, refused[0])
    assert late.value.status == 422 and live_code(env, party_id, first)
    assert env.snapshot() == before


def test_a_new_code_is_live_and_ends_the_earlier_one_only_with_its_entry(env: Env) -> None:
    party_id, first = registered(env)
    with Session(env.log.engine) as session, session.begin():  # written, not logged
        pending = service.new_enrolment_code(session, party_id)
    assert not live_code(env, party_id, pending.secret) and live_code(env, party_id, first)
    second = codes.issue_code(logger(env), None, party_id)
    assert live_code(env, party_id, second.code) and not live_code(env, party_id, first)
    assert not live_code(env, party_id, pending.secret)  # pending still: opens nothing
    states = [
        (c.activated_at is not None, c.revoked_at is not None) for c in code_rows(env, party_id)
    ]
    assert states == [(True, True), (False, False), (True, False)]


def test_a_refused_registration_leaves_no_code(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    before = env.snapshot()
    refuse_token_events(monkeypatch, env.log)
    code = credit_code()
    body = {"party_id": f"pro-{code}", "name": "测试", "kind": "producer", "credit_code": code}
    with pytest.raises(DiskFull):
        env.client.post(
            "/api/v1/parties",
            json={"entry": env.regulator.sign("party.register", body)},
            headers=env.regulator.headers,
        )
    assert env.snapshot() == before


def test_init_regulator_logs_the_party_and_its_token_in_one_group(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(db_url, "heads")
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(tmp_path))
    args: dict[str, Any] = {"party_id": "gov", "name": "市监局", "credit_code": credit_code()}
    with MerkleLog(db_url) as log:
        refuse_token_events(monkeypatch, log)
        size = log.size()
        with pytest.raises(DiskFull):
            init_regulator(log, key_file=tmp_path / "a.key", **args)
        assert log.size() == size  # not even the platform key's registration
        with Session(log.engine) as session:  # neither the party nor a live token
            assert session.get(Party, "gov") is None
            rows = session.scalars(select(ApiToken)).all()
            assert all(r.activated_at is None for r in rows)
        monkeypatch.undo()
        size = log.size()
        boot = init_regulator(log, key_file=tmp_path / "b.key", **args)
        # one group: the registration, the platform key's registration, the token's event
        assert log.size() == size + 3 and boot.entry_index == size
        types = [log.entry(i).type for i in range(size, size + 3)]
        assert types == ["party.register", "platform.key.register", "token.event"]
        with Session(log.engine) as session:
            principal = service.authenticate(session, boot.token)
        assert principal is not None and principal.party_id == "gov"


def test_codes_from_before_0033_count_as_activated_and_pending_ones_stay_dead(
    db_url: str,
) -> None:
    migrate(db_url, "0030_token_activation")
    engine = make_engine(db_url)
    created = datetime(2026, 1, 5, tzinfo=UTC)
    insert = sa.text(
        "INSERT INTO enrolment_codes (party_id, code_hash, created_at, expires_at)"
        " VALUES ('farm', :h, :c, :e)"
    )
    try:
        with engine.begin() as conn:
            conn.execute(insert, {"h": "0" * 64, "c": created, "e": created + timedelta(days=7)})
        migrate(db_url, "0033_enrolment_code_activation")
        with Session(engine) as session, session.begin():
            [old] = session.scalars(select(EnrolmentCode)).all()
            assert old.activated_at is not None and service.aware(old.activated_at) == created
            old_id = old.id
            pending = service.new_enrolment_code(session, "farm").row.id
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0030_token_activation")
        with engine.connect() as conn:
            revoked = dict(
                conn.execute(sa.text("SELECT id, revoked_at FROM enrolment_codes")).all()
            )
        assert revoked[old_id] is None and revoked[pending] is not None
    finally:
        engine.dispose()

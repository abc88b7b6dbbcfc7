"""A token is live only through its integrated ``token.event``: a log that refuses (or a
process that dies before the append) leaves nothing live and nothing half done, a late
entry for a withdrawn token is refused, two enrolments racing with one code give one token,
and the credentials' state rebuilt from the log equals the live tables."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from recordharness import Actor, Env, credit_code
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from foodtrace.api.problems import Problem
from foodtrace.auth import authenticate, codes, flows, issue_token, rebuild, service
from foodtrace.auth.models import ApiToken, EnrolmentCode, Role
from foodtrace.record.service import submit
from foodtrace.store.db import session_factory
from foodtrace.trace.entry import Entry


class DiskFull(OSError):
    pass


def logger(env: Env) -> flows.Logger:
    return flows.Logger(env.log, session_factory(env.log.engine), env.settings)


def refuse_token_events(monkeypatch: pytest.MonkeyPatch, env: Env) -> list[list[Entry]]:
    """Make the log's append raise for every group with a ``token.event`` (other groups, the
    platform key's registration say, go through); the refused groups."""
    real = env.log.append
    refused: list[list[Entry]] = []

    def append(group: Sequence[Any], projectors: Sequence[Any] = ()) -> range:
        if any(getattr(e, "type", None) == "token.event" for e in group):
            refused.append(list(group))
            raise DiskFull("no space left on device")
        return real(group, projectors)

    monkeypatch.setattr(env.log, "append", append)
    return refused


def live(env: Env, token: str) -> bool:
    with Session(env.log.engine) as session:
        return authenticate(session, token) is not None


def rows(env: Env, party_id: str) -> list[ApiToken]:
    with Session(env.log.engine) as session:
        stmt = select(ApiToken).where(ApiToken.party_id == party_id).order_by(ApiToken.id)
        return list(session.scalars(stmt))


def code_for(env: Env, party_id: str) -> flows.NewCode:
    return codes.issue_code(logger(env), None, party_id)


def registered(env: Env) -> str:
    """A registered producer that has not enrolled yet."""
    code = credit_code()
    body = {"party_id": f"pro-{code}", "name": "测试", "kind": "producer", "credit_code": code}
    r = env.client.post(
        "/api/v1/parties",
        json={"entry": env.regulator.sign("party.register", body)},
        headers=env.regulator.headers,
    )
    assert r.status_code == 201, r.text
    return body["party_id"]


def token_id(env: Env, actor: Actor) -> int:
    with Session(env.log.engine) as session:
        principal = authenticate(session, actor.token)
    assert principal is not None
    return principal.token_id


def test_a_failed_rotation_leaves_the_old_token_working(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    party = env.add_party("producer")
    old = token_id(env, party)
    before, size = env.snapshot(), env.log.size()
    refused = refuse_token_events(monkeypatch, env)
    with pytest.raises(DiskFull):
        flows.rotate(logger(env), None, party.party_id, old)
    assert len(refused) == 1 and env.log.size() == size
    assert live(env, party.token)
    old_row, new_row = rows(env, party.party_id)
    assert old_row.id == old and old_row.revoked_at is None
    assert new_row.activated_at is None and new_row.revoked_at is not None  # withdrawn
    assert env.snapshot() == {**before, "api_tokens": before["api_tokens"] + 1}

    monkeypatch.undo()  # the entry comes in late (a sequencer that integrates it after all)
    with pytest.raises(Problem) as late:
        submit(env.log, session_factory(env.log.engine), logger(env).principal, refused[0])
    assert late.value.status == 409
    assert live(env, party.token) and env.log.size() == size
    assert rows(env, party.party_id)[1].activated_at is None


def test_a_failed_enrolment_leaves_the_code_usable(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    party_id = registered(env)
    code = code_for(env, party_id)
    refuse_token_events(monkeypatch, env)
    with pytest.raises(DiskFull):
        flows.enrol(logger(env), party_id, code.code, "收银台")
    [withdrawn] = rows(env, party_id)
    assert withdrawn.activated_at is None and withdrawn.revoked_at is not None
    with Session(env.log.engine) as session:
        assert service.live_enrolment_code(session, party_id, code.code) is not None

    monkeypatch.undo()
    new, _ = flows.enrol(logger(env), party_id, code.code, "收银台")
    assert live(env, new.secret)
    with Session(env.log.engine) as session:
        assert service.live_enrolment_code(session, party_id, code.code) is None


def test_a_failed_issue_leaves_no_live_token(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    party = env.add_party("producer")
    refuse_token_events(monkeypatch, env)
    with pytest.raises(DiskFull):
        flows.issue(logger(env), None, party.party_id, "第二台")
    assert [r.activated_at is not None for r in rows(env, party.party_id)] == [True, False]


def test_a_crash_before_the_append_leaves_the_new_token_dead(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the token row is committed: no append, no clean-up (here the
    database refuses the withdrawal). The row authenticates nothing, the old token and the
    code are untouched."""
    party = env.add_party("producer")
    old = token_id(env, party)
    refuse_token_events(monkeypatch, env)

    def gone(*_: object, **__: object) -> bool:
        raise OperationalError("UPDATE api_tokens", {}, Exception("server closed the connection"))

    monkeypatch.setattr(service, "withdraw", gone)
    with pytest.raises(DiskFull):
        flows.rotate(logger(env), None, party.party_id, old)
    assert live(env, party.token)
    assert [(r.activated_at is None, r.revoked_at is None) for r in rows(env, party.party_id)] == [
        (False, True),  # the old token: active, not revoked
        (True, True),  # the new one: never activated, so never live
    ]


def test_a_revocation_stands_when_the_log_refuses_it(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    party = env.add_party("producer")
    refuse_token_events(monkeypatch, env)
    with pytest.raises(DiskFull):
        flows.revoke(logger(env), None, party.party_id, token_id(env, party))
    assert not live(env, party.token)
    monkeypatch.undo()
    with Session(env.log.engine) as session, session.begin():
        done = rebuild.rebuild(session)
    assert done.revoked_outside_log == [rows(env, party.party_id)[0].id]
    assert not live(env, party.token)  # a rebuild never brings a dead token back


def test_a_logged_revocation_is_immediate(env: Env) -> None:
    party = env.add_party("producer")
    size = env.log.size()
    flows.revoke(logger(env), None, party.party_id, token_id(env, party))
    assert not live(env, party.token) and env.log.size() == size + 1
    with pytest.raises(flows.AlreadyRevoked):
        flows.revoke(logger(env), None, party.party_id, rows(env, party.party_id)[0].id)


def hold_token_events(monkeypatch: pytest.MonkeyPatch, env: Env, racers: int) -> None:
    """Make ``racers`` requests meet before any of them appends its ``token.event``: each
    has checked the credential, so only the guarded UPDATEs in the log's transaction can
    tell them apart."""
    real = env.log.append
    barrier = threading.Barrier(racers, timeout=30)

    def append(group: Sequence[Any], projectors: Sequence[Any] = ()) -> range:
        if any(getattr(e, "type", None) == "token.event" for e in group):
            barrier.wait()
        return real(group, projectors)

    monkeypatch.setattr(env.log, "append", append)


def test_two_rotations_of_one_token_give_one_replacement(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    party = env.add_party("producer")
    old = token_id(env, party)
    hold_token_events(monkeypatch, env, 2)
    won: list[flows.NewToken] = []
    lost: list[BaseException] = []

    def rotate() -> None:
        try:
            won.append(flows.rotate(logger(env), None, party.party_id, old))
        except (flows.AlreadyRevoked, Problem) as exc:
            lost.append(exc)

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and [type(e) for e in lost] == [flows.AlreadyRevoked]
    assert live(env, won[0].secret) and not live(env, party.token)
    assert sum(r.activated_at is not None for r in rows(env, party.party_id)) == 2


def test_two_enrolments_with_one_code_give_one_token(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    racers = 4
    party_id = registered(env)
    code = code_for(env, party_id)
    hold_token_events(monkeypatch, env, racers)
    won: list[str] = []
    lost: list[BaseException] = []

    def redeem(n: int) -> None:
        try:
            won.append(flows.enrol(logger(env), party_id, code.code, f"手机{n}")[0].secret)
        except (flows.InvalidEnrolmentCode, Problem) as exc:
            lost.append(exc)

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == racers - 1
    assert all(isinstance(e, flows.InvalidEnrolmentCode) for e in lost)
    assert live(env, won[0])
    tokens = rows(env, party_id)
    assert len(tokens) == racers
    assert sum(r.activated_at is not None and r.revoked_at is None for r in tokens) == 1
    with Session(env.log.engine) as session:
        codes = session.scalars(select(EnrolmentCode).where(EnrolmentCode.party_id == party_id))
        assert [c.used_at is not None for c in codes] == [False, True]  # registration's, ours


def test_the_state_rebuilt_from_the_log_is_the_live_one(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = env.add_party("producer"), env.add_party("restaurant")
    pending = registered(env)  # a code issued, never used
    a_first = token_id(env, a)
    rotated = flows.rotate(logger(env), None, a.party_id, a_first, "新手机")
    second = flows.issue(logger(env), None, b.party_id, "后厨")
    flows.revoke(logger(env), None, b.party_id, second.token.id)
    flows.rotate(logger(env), None, a.party_id, rotated.token.id)
    refuse_token_events(monkeypatch, env)
    with pytest.raises(DiskFull):
        flows.issue(logger(env), None, b.party_id, "失败")  # withdrawn, not in the log
    monkeypatch.undo()
    with Session(env.log.engine) as session, session.begin():
        setup = issue_token(session, "gov-other", Role.INSPECTOR)  # not logged: kept as is
    with Session(env.log.engine) as session:
        live_state = rebuild.contents(session)
    assert any(p == pending for _, p, *_ in live_state["enrolment_codes"])

    with Session(env.log.engine) as session, session.begin():
        session.execute(update(ApiToken).where(ApiToken.id == a_first).values(revoked_at=None))
        session.execute(update(EnrolmentCode).values(used_at=None))  # tampered with
    with Session(env.log.engine) as session, session.begin():
        done = rebuild.rebuild(session)
    with Session(env.log.engine) as session:
        assert rebuild.contents(session) == live_state
    assert done.replayed > 0 and done.revoked_outside_log == []
    assert not live(env, a.token) and live(env, setup)

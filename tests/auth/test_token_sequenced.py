"""The token lifecycle under the sequencer (PostgreSQL, several workers): the token.event
projector runs in the sequencer's transaction, so a token goes live, a rotated one dies and
a code is used up exactly when the entry is integrated; a worker that loses the answer
still hands out a token that was integrated, and one whose group never reached the queue
leaves nothing a late entry could bring alive."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from seqharness import bootstrap, settings_for

from foodtrace.api.problems import Problem
from foodtrace.auth import authenticate, codes, flows, rebuild
from foodtrace.auth.models import ApiToken
from foodtrace.config import Settings
from foodtrace.sequencer.client import SequencedLog
from foodtrace.sequencer.refusal import EntryRefused, SequencerUnavailable
from foodtrace.sequencer.sequencer import Sequencer
from foodtrace.store.db import session_factory
from foodtrace.trace.entry import Entry

PARTY = "pro-000001"
Append = Callable[[Sequence[Entry]], range]


@dataclass
class World:
    settings: Settings
    workers: list[SequencedLog]

    def logger(self, n: int = 0) -> flows.Logger:
        log = self.workers[n]
        return flows.Logger(log, session_factory(log.engine), self.settings)

    def live(self, token: str) -> bool:
        with session_factory(self.workers[0].engine)() as session:
            return authenticate(session, token) is not None

    def token(self, token_id: int) -> ApiToken:
        with session_factory(self.workers[0].engine)() as session:
            row = session.get(ApiToken, token_id)
        assert row is not None
        return row


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> Iterator[World]:
    reg = bootstrap(pg_url, tmp_path)
    settings = settings_for(pg_url, tmp_path, sequencer="worker", sequencer_wait_s=20)
    seq = Sequencer(pg_url, settings)
    workers = [SequencedLog(pg_url, settings=settings) for _ in range(3)]
    seq.start()
    try:
        workers[0].append_registered([reg.party(1)])
        yield World(settings, workers)
    finally:
        seq.close()
        for w in workers:
            w.close()


def enrolled(world: World) -> flows.NewToken:
    code = codes.issue_code(world.logger(), None, PARTY)
    new, _ = flows.enrol(world.logger(1), PARTY, code.code, "收银台")
    return new


def test_enrol_rotate_revoke_through_the_sequencer(world: World) -> None:
    first = enrolled(world)
    assert world.live(first.secret)
    size = world.workers[0].size()
    second = flows.rotate(world.logger(2), None, PARTY, first.token.id)
    assert world.live(second.secret) and not world.live(first.secret)
    assert world.workers[0].size() == size + 1
    flows.revoke(world.logger(), None, PARTY, second.token.id)
    assert not world.live(second.secret)
    with pytest.raises(flows.AlreadyRevoked):
        flows.rotate(world.logger(1), None, PARTY, first.token.id)

    with session_factory(world.workers[0].engine)() as session:
        before = rebuild.contents(session)
    with session_factory(world.workers[0].engine)() as session, session.begin():
        done = rebuild.rebuild(session)
    with session_factory(world.workers[0].engine)() as session:
        assert rebuild.contents(session) == before
    assert done.replayed >= 4 and done.revoked_outside_log == []


def test_two_workers_enrolling_with_one_code_give_one_token(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = codes.issue_code(world.logger(), None, PARTY)
    barrier = threading.Barrier(2, timeout=30)

    def held(real: Append) -> Append:
        def append(entries: Sequence[Entry]) -> range:
            if any(e.type == "token.event" for e in entries):
                barrier.wait()  # both checked the code before either is queued
            return real(entries)

        return append

    for worker in world.workers[1:]:
        monkeypatch.setattr(worker, "append_registered", held(worker.append_registered))
    won: list[flows.NewToken] = []
    lost: list[BaseException] = []

    def redeem(n: int) -> None:
        try:
            won.append(flows.enrol(world.logger(n), PARTY, code.code, f"手机{n}")[0])
        except (flows.InvalidEnrolmentCode, Problem) as exc:
            lost.append(exc)

    threads = [threading.Thread(target=redeem, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], flows.InvalidEnrolmentCode)
    assert world.live(won[0].secret)


def test_a_lost_answer_still_hands_out_the_integrated_token(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = enrolled(world)
    worker = world.workers[2]
    real = worker.append_registered

    def answer_lost(entries: Sequence[Entry]) -> range:
        real(entries)
        raise SequencerUnavailable("no answer within 20 s")

    monkeypatch.setattr(worker, "append_registered", answer_lost)
    second = flows.rotate(world.logger(2), None, PARTY, first.token.id)
    assert world.live(second.secret) and not world.live(first.secret)


def test_a_group_never_queued_leaves_the_old_token_and_refuses_a_late_entry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = enrolled(world)
    worker = world.workers[2]
    real = worker.append_registered
    dropped: list[Sequence[Entry]] = []

    def unavailable(entries: Sequence[Entry]) -> range:
        dropped.append(entries)
        raise SequencerUnavailable("no answer within 20 s")

    monkeypatch.setattr(worker, "append_registered", unavailable)
    with pytest.raises(Problem) as refused:
        flows.rotate(world.logger(2), None, PARTY, first.token.id)
    assert refused.value.status == 503
    assert world.live(first.secret)
    [group] = dropped
    new_id = group[0].body["token_id"]
    assert world.token(new_id).revoked_at is not None  # withdrawn

    size = world.workers[0].size()
    with pytest.raises(EntryRefused) as late:
        real(group)  # the same group reaching the sequencer after all
    assert late.value.status == 409 and world.workers[0].size() == size
    assert world.live(first.secret) and world.token(new_id).activated_at is None

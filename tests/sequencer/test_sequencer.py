"""The sequencer in one process: integration in queue order, refusals on the row, fencing.

A sequencer whose lock connection is terminated, or whose epoch was superseded, must fail
the commit of the batch it was working on: nothing of it is written and the groups stay
queued for the next elected sequencer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from seqharness import bootstrap, queue, settings_for, sql

from foodtrace.api.app import create_app
from foodtrace.sequencer.client import SequencedLog
from foodtrace.sequencer.election import Fenced
from foodtrace.sequencer.refusal import EntryRefused
from foodtrace.sequencer.sequencer import Sequencer
from foodtrace.store.log import MerkleLog


def test_groups_are_integrated_and_refusals_reach_the_worker(pg_url: str, tmp_path: Path) -> None:
    reg = bootstrap(pg_url, tmp_path)
    settings = settings_for(pg_url, tmp_path, sequencer="worker", sequencer_wait_s=10)
    seq = Sequencer(pg_url, settings)
    log = SequencedLog(pg_url, settings=settings)
    seq.start()
    try:
        size0 = log.size()
        first = log.append_registered([reg.party(1), reg.party(2)])
        assert first == range(size0, size0 + 2)
        duplicate = reg.party(3)
        with pytest.raises(EntryRefused) as refused:
            log.append_registered([reg.party(4), duplicate, duplicate])
        assert refused.value.position == 2 and refused.value.status == 409
        after = log.append_registered([reg.party(5)])
        assert after == range(size0 + 2, size0 + 3)  # the refused group took no index
        assert log.entry(after.start).body["party_id"] == "pro-000005"
        assert sql(pg_url, "SELECT count(*) FROM parties WHERE party_id = 'pro-000004'") == [
            (0,)
        ]  # nothing of the refused group was projected
        assert sql(pg_url, "SELECT count(*) FROM sequencer_queue") == [(0,)]
        assert log.audit().ok
    finally:
        seq.close()
        log.close()


def test_terminated_lock_connection_fences_the_next_commit(pg_url: str, tmp_path: Path) -> None:
    reg = bootstrap(pg_url, tmp_path)
    settings = settings_for(pg_url, tmp_path)
    a, b = Sequencer(pg_url, settings), Sequencer(pg_url, settings)
    try:
        assert a.step() == 0  # elected, nothing queued
        assert b.step() is None  # not elected while a holds the lock
        row = queue(pg_url, [reg.party(1)])
        size = a.log.size()
        pid = a.election.lock_backend_pid()
        assert sql(pg_url, "SELECT pg_terminate_backend(:pid)", pid=pid) == [(True,)]
        with pytest.raises(Fenced):
            a.step()
        assert a.log.size() == size  # the batch was not written
        assert sql(pg_url, "SELECT state FROM sequencer_queue WHERE id = :i", i=row) == [(0,)]
        assert b.step() == 1  # b is elected and integrates what a could not
        assert sql(pg_url, "SELECT state, first_index FROM sequencer_queue") == [(1, size)]
        assert sql(pg_url, "SELECT epoch FROM election_epochs") == [(2,)]
        assert b.log.audit().ok
    finally:
        a.close()
        b.close()


def test_superseded_epoch_fences_the_commit(pg_url: str, tmp_path: Path) -> None:
    reg = bootstrap(pg_url, tmp_path)
    a = Sequencer(pg_url, settings_for(pg_url, tmp_path))
    try:
        assert a.step() == 0
        queue(pg_url, [reg.party(1)])
        size = a.log.size()
        sql(pg_url, "UPDATE election_epochs SET epoch = epoch + 1")  # someone else's term
        with pytest.raises(Fenced):
            a.step()
        assert a.log.size() == size
        assert sql(pg_url, "SELECT count(*) FROM sequencer_queue WHERE state = 0") == [(1,)]
        assert a.step() == 1  # standing again starts a new epoch of its own
    finally:
        a.close()


def test_sqlite_keeps_the_single_process_path(sqlite_url: str, tmp_path: Path) -> None:
    settings = settings_for(sqlite_url, tmp_path, sequencer="candidate")
    MerkleLog(sqlite_url, settings=settings).close()
    with pytest.raises(ValueError, match="PostgreSQL"):
        Sequencer(sqlite_url, settings)
    app = create_app(settings)
    assert type(app.state.log) is MerkleLog
    app.state.log.close()

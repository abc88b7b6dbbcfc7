"""The anchorer's election is the sequencer's: a deposed anchorer's journal commit fails."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from foodtrace.ledger.anchorer import AnchorLock
from foodtrace.ledger.models import Deployment
from foodtrace.sequencer.election import Fenced
from foodtrace.store.db import make_engine, migrate, normalize_url


def _terminate(url: str, pid: int | None) -> None:
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    engine.dispose()


def test_anchorer_whose_lock_connection_died_cannot_commit(pg_url: str) -> None:
    migrate(pg_url)
    lock, other = AnchorLock(pg_url), AnchorLock(pg_url)
    engine = make_engine(pg_url)
    try:
        assert lock.try_acquire()
        with Session(engine) as session:
            lock.fence(session)
            session.scalars(text("SELECT 1")).all()
            session.commit()  # still the holder: commits
            assert lock.election is not None
            _terminate(pg_url, lock.election.lock_backend_pid())
            session.add(Deployment(chain_id=1, log_id=b"\0" * 32, contract_address="0x" + "0" * 40))
            with pytest.raises(Fenced):
                session.commit()
            session.rollback()
        assert not lock.held  # it stopped at once
        assert other.try_acquire()  # and the next anchorer is elected
        with Session(engine) as session:
            assert session.query(Deployment).count() == 0  # the fenced write is not there
    finally:
        lock.release()
        other.release()
        engine.dispose()


def test_sqlite_anchor_lock_is_not_fenced(sqlite_url: str) -> None:
    lock = AnchorLock(sqlite_url)
    try:
        assert lock.try_acquire() and lock.election is None
    finally:
        lock.release()

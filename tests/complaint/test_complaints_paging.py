"""The complaints list reads LIMITed keyset chunks, newest first: ``overdue`` is narrowed in
SQL to a superset that the deadlines then decide, so a page skips the complaints answered in
time without reading the whole table, and each overdue complaint comes once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keysetharness import statements
from recordharness import Actor, Env
from sqlalchemy.orm import Session

from foodtrace.complaint import service
from foodtrace.complaint.schemas import Category, ComplaintIn, Stage
from foodtrace.store.db import session_factory

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def _file(env: Env, shop: Actor, at: datetime) -> str:
    data = ComplaintIn(merchant_id=shop.party_id, category=Category.HYGIENE, description="脏")
    return service.file_complaint(
        env.log, session_factory(env.log.engine), env.settings, data, now=at
    )


def test_overdue_complaints_page_in_limited_chunks(env: Env) -> None:
    shop = env.add_party("restaurant")
    sessions = session_factory(env.log.engine)
    filed = {m: _file(env, shop, T0 + timedelta(minutes=m)) for m in range(0, 100, 10)}
    # answered in time (not overdue): the newest six minus the two left unanswered
    for m in (40, 50, 60, 70):
        at = T0 + timedelta(minutes=m + 5)
        service.record_update(
            env.log, sessions, env.settings, filed[m], Stage.RESPONSE, "gov", "已受理", at
        )
    now = T0 + timedelta(minutes=100)  # 30 min late: 0..30 unanswered; 80, 90 still in time
    overdue = [filed[m] for m in (30, 20, 10, 0)]
    with Session(env.log.engine) as session:
        seen: list[str] = []
        before = None
        for _ in range(10):
            page = service.list_complaints(
                session, now=now, overdue_only=True, limit=2, before=before
            )
            seen += [c.tracking_number for c in page]
            if len(page) < 2:
                break
            before = (page[-1].received_at, page[-1].tracking_number)
        assert seen == overdue  # each once, newest first
        every = service.list_complaints(session, now=now, limit=100)
        assert [c.tracking_number for c in every] == [filed[m] for m in range(90, -10, -10)]

    with statements(env, env.log.engine) as sql, Session(env.log.engine) as session:
        first = service.list_complaints(session, now=now, overdue_only=True, limit=2)
    assert [c.tracking_number for c in first] == overdue[:2]
    reads = [s for s in sql if "FROM complaints" in s and "ORDER BY" in s]
    # the four answered in time are read and dropped: chunks of two, each LIMITed
    assert reads and all("LIMIT" in s for s in reads) and len(reads) <= 4, sql

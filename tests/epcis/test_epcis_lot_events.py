"""A lot's events come from the (lot, gtin, event_pk) index, not a walk over every event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from repos import Repository, open_repository
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc
from foodtrace.epcis.query import lot_events

GTIN = "06901234100013"
OTHER = "06901234999997"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _store(repository: Repository, rows: list[tuple[int, str, str, datetime]]) -> None:
    """Events (pk, gtin, lot, time), each naming one lot class, as the projector stores them."""
    with repository.sessions() as session, session.begin():
        session.execute(
            insert(EpcisEvent),
            [
                {
                    "id": pk,
                    "hash_id": f"ni:///sha-256;t{pk}?ver=CBV2.0",
                    "event_id": f"urn:uuid:t-{pk}",
                    "declares_error": False,
                    "type": "ObjectEvent",
                    "action": "OBSERVE",
                    "event_time": at,
                    "record_time": at,
                    "author": "farm-001",
                    "entry_index": 1_000_000 + pk,
                    "body": "{}",
                }
                for pk, _, _, at in rows
            ],
        )
        session.execute(
            insert(EpcisEventEpc),
            [
                {
                    "event_pk": pk,
                    "role": "quantityList",
                    "is_class": True,
                    "epc": f"https://id.gs1.org/01/{gtin}/10/{lot}",
                    "canonical": f"https://id.gs1.org/01/{gtin}/10/{lot}",
                    "gtin": gtin,
                    "lot": lot,
                }
                for pk, gtin, lot, _ in rows
            ],
        )


def test_lot_events_by_lot_and_gtin_in_time_order(repository: Repository) -> None:
    rows = [
        (1, GTIN, "A", T0 + timedelta(hours=2)),
        (2, GTIN, "B", T0),
        (3, OTHER, "A", T0 + timedelta(hours=1)),  # same lot code, another product
        (4, GTIN, "A", T0),
        (5, GTIN, "A", T0 + timedelta(hours=1)),
    ]
    _store(repository, rows)
    with repository.sessions() as session:
        assert [e.id for e in lot_events(session, "A", GTIN)] == [4, 5, 1]
        assert [e.id for e in lot_events(session, "A", GTIN.lstrip("0"))] == [4, 5, 1]
        assert [e.id for e in lot_events(session, "A")] == [4, 3, 5, 1]
        assert lot_events(session, "Z", GTIN) == []


def test_lot_events_plan_uses_the_lot_index(sqlite_url: str, tmp_path: Path) -> None:
    """SQLite's plan (PostgreSQL's planner chooses by statistics, so only SQLite's is fixed):
    the ids from the covering index, then the events by key, never a scan of all events."""
    with open_repository(sqlite_url, tmp_path / "var") as repository:
        _store(repository, [(1, GTIN, "A", T0)])
        engine = repository.log.engine
        sent: list[tuple[str, Any]] = []

        def grab(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            sent.append((statement, params))

        event.listen(engine, "before_cursor_execute", grab)
        try:
            with Session(engine) as session:
                assert [e.id for e in lot_events(session, "A", GTIN)] == [1]
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        [(statement, params)] = [(s, p) for s, p in sent if "epcis_events" in s]
        with engine.connect() as conn:
            plan = " | ".join(
                str(row[-1])
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
    assert "ix_epcis_event_epcs_lot_gtin" in plan, plan
    assert "SCAN epcis_events" not in plan, plan

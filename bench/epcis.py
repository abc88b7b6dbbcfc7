"""Benchmark EPCIS capture and SimpleEventQuery latency, each beside a same-run reference.

Run: ``.venv/bin/python bench/epcis.py [--events 1000000] [--big 10000] [--reps 200]
[--only capture|queries]``
(defaults: 100,000 events for the queries, documents of 1, 100 and 10,000 events).

Capture: documents of 1, 100 and 10,000 ObjectEvents through the real path
(``POST /epcis/capture`` on ``create_app`` in process: JSON Schema and CBV validation,
CBV hash ids, Ed25519 signing with the party's server-held key, one atomic log group, the
projector filling every index table). Reference in the same run: the log's raw append of
the same number of entry-sized leaves (``MerkleLog.append_leaves``), the storage floor.

Queries: N synthetic events are inserted straight into the index tables (one event row,
one class-level quantity naming one of 20,000 lots, one owning_party source among 500, one
of 1,000 read points, six business steps; no log entries: only the SQL is measured), then
four queries run through :func:`foodtrace.epcis.query.run` (the SQL the API runs, one
30-event page): by lot (``MATCH_anyEPCClass``), by bizStep and a one-day eventTime window,
by readPoint, by source type (``EQ_source_owning_party``). Reference in the same run: the
same queries on a copy of the database with the indexes on the filtered columns dropped
(the event_pk join indexes and primary keys stay, so an unindexed filter is a full scan of
the filtered table, not a quadratic join): what the query language would cost without its
index tables. Fewer repetitions on the copy; both on SQLite.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from foodtrace.api.app import create_app  # noqa: E402
from foodtrace.auth import Role, issue_token  # noqa: E402
from foodtrace.config import Settings  # noqa: E402
from foodtrace.epcis import query  # noqa: E402
from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventParty  # noqa: E402
from foodtrace.record.custody import create_custodial_key  # noqa: E402
from foodtrace.store.authors import register_key  # noqa: E402
from foodtrace.store.db import make_engine, migrate  # noqa: E402
from foodtrace.store.log import MerkleLog  # noqa: E402
from foodtrace.trace.epcis import query_params  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)
GTIN = "04012345123456"
LOTS = 20_000
PARTIES = 500
READ_POINTS = 1_000
BIZ_STEPS = ("commissioning", "shipping", "receiving", "storing", "packing", "inspecting")
CHUNK = 50_000
INDEXED = (
    "ix_epcis_event_epcs_canonical",
    "ix_epcis_event_epcs_lot_gtin",
    "ix_epcis_events_biz_step",
    "ix_epcis_events_time_id",
    "ix_epcis_events_read_point",
    "ix_epcis_event_parties_party",
)


# --- capture -----------------------------------------------------------------------------


def document(first: int, count: int) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": (T0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
                    "eventTimeZoneOffset": "+08:00",
                    "action": "OBSERVE",
                    "bizStep": BIZ_STEPS[n % len(BIZ_STEPS)],
                    "readPoint": {"id": f"urn:epc:id:sgln:4012345.{n % READ_POINTS:05d}.0"},
                    "quantityList": [
                        {
                            "epcClass": f"urn:epc:class:lgtin:4012345.012345.L{n % LOTS}",
                            "quantity": 1 + n % 50,
                            "uom": "KGM",
                        }
                    ],
                    "sourceList": [
                        {
                            "type": "owning_party",
                            "source": f"urn:epc:id:pgln:4012345.{n % PARTIES:05d}",
                        }
                    ],
                }
                for n in range(first, first + count)
            ]
        },
    }


def capture_rates(sizes: list[int], work: Path) -> list[tuple[int, int, float, float]]:
    """(events per document, documents, events/s through capture, events/s raw append)."""
    url = f"sqlite:///{work / 'capture.db'}"
    migrate(url)
    settings = Settings(data_dir=work / "var", log_origin="bench.foodtrace/log")
    engine = make_engine(url)
    app = create_app(settings, engine=engine)
    out = []
    with TestClient(app) as client:
        log: MerkleLog = app.state.log
        with Session(engine) as session, session.begin():
            public = create_custodial_key(session, "farm-001", settings)
            token = issue_token(session, "farm-001", Role.PRODUCER)
        register_key(log.engine, "farm-001", public)
        headers = {"Content-Type": "application/ld+json", "Authorization": f"Bearer {token}"}
        first = 0
        for size in sizes:
            docs = max(1, min(50, 10_000 // size))
            bodies = [json.dumps(document(first + i * size, size)) for i in range(docs)]
            first += docs * size
            t = time.perf_counter()
            for body in bodies:
                r = client.post("/epcis/capture", content=body, headers=headers)
                assert r.status_code == 202 and r.json()["success"], r.text[:500]
            ours = docs * size / (time.perf_counter() - t)
            leaf = b"x" * 700  # about one stored epcis.event entry
            t = time.perf_counter()
            for _ in range(docs):
                log.append_leaves([leaf] * size, ("bench", "farm-001", "k", "2026-01-01T00:00:00Z"))
            raw = docs * size / (time.perf_counter() - t)
            out.append((size, docs, ours, raw))
    engine.dispose()
    return out


# --- queries -----------------------------------------------------------------------------


def seed(engine: Engine, events: int) -> None:
    """``events`` synthetic events in the index tables, as the projector shapes them."""
    t = time.perf_counter()
    for start in range(0, events, CHUNK):
        ns = range(start, min(events, start + CHUNK))
        rows, epcs, parties = [], [], []
        for n in ns:
            at = T0 + timedelta(seconds=30 * n)
            pk = n + 1
            lot = f"L{n % LOTS}"
            rows.append(
                {
                    "id": pk,
                    "hash_id": f"ni:///sha-256;{n:064x}?ver=CBV2.0",
                    "event_id": f"urn:uuid:bench-{n}",
                    "declares_error": False,
                    "type": "ObjectEvent",
                    "action": "OBSERVE",
                    "event_time": at,
                    "record_time": at,
                    "biz_step": BIZ_STEPS[n % len(BIZ_STEPS)],
                    "read_point": f"urn:epc:id:sgln:4012345.{n % READ_POINTS:05d}.0",
                    "author": "farm-001",
                    "entry_index": n,
                    "body": '{"type":"ObjectEvent"}',
                }
            )
            dl = f"https://id.gs1.org/01/{GTIN}/10/{lot}"
            epcs.append(
                {
                    "event_pk": pk,
                    "role": "quantityList",
                    "is_class": True,
                    "epc": dl,
                    "canonical": dl,
                    "gtin": GTIN,
                    "lot": lot,
                    "quantity": 1.0 + n % 50,
                    "uom": "KGM",
                }
            )
            parties.append(
                {
                    "event_pk": pk,
                    "direction": "source",
                    "type": "owning_party",
                    "party": f"urn:epc:id:pgln:4012345.{n % PARTIES:05d}",
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(EpcisEvent), rows)
            conn.execute(insert(EpcisEventEpc), epcs)
            conn.execute(insert(EpcisEventParty), parties)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"seeded {events:,} events in {time.perf_counter() - t:.0f} s", flush=True)


def queries(events: int, rng: random.Random) -> dict[str, Callable[[], list[tuple[str, str]]]]:
    span = 30 * events

    def by_lot() -> list[tuple[str, str]]:
        lot = rng.randrange(LOTS)
        return [("MATCH_anyEPCClass", f"urn:epc:class:lgtin:4012345.012345.L{lot}")]

    def by_step_and_day() -> list[tuple[str, str]]:
        start = T0 + timedelta(seconds=rng.randrange(max(1, span - 86_400)))
        return [
            ("EQ_bizStep", rng.choice(BIZ_STEPS)),
            ("GE_eventTime", start.isoformat()),
            ("LT_eventTime", (start + timedelta(days=1)).isoformat()),
        ]

    def by_read_point() -> list[tuple[str, str]]:
        return [("EQ_readPoint", f"urn:epc:id:sgln:4012345.{rng.randrange(READ_POINTS):05d}.0")]

    def by_source() -> list[tuple[str, str]]:
        party = f"urn:epc:id:pgln:4012345.{rng.randrange(PARTIES):05d}"
        return [("EQ_source_owning_party", party)]

    return {
        "lot (MATCH_anyEPCClass)": by_lot,
        "bizStep + 1-day eventTime": by_step_and_day,
        "readPoint (EQ_readPoint)": by_read_point,
        "source type (EQ_source_owning_party)": by_source,
    }


def latencies(engine: Engine, make: Callable[[], list[tuple[str, str]]], reps: int) -> list[float]:
    out = []
    with Session(engine) as session:
        for _ in range(reps):
            parsed = query_params.parse(make())
            t = time.perf_counter()
            rows, _ = query.run(session, parsed, 30)
            out.append((time.perf_counter() - t) * 1000)
            assert rows, "every benchmark query matches events"
            session.rollback()
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=100_000, help="events for the queries")
    ap.add_argument("--big", type=int, default=10_000, help="events in the largest document")
    ap.add_argument("--reps", type=int, default=200, help="repetitions per query (indexed)")
    ap.add_argument("--scan-reps", type=int, default=5, help="repetitions without indexes")
    ap.add_argument("--only", choices=("capture", "queries"), help="run one half")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ft-bench-epcis-") as tmp:
        work = Path(tmp)
        if args.only != "queries":
            print("| document | documents | capture (events/s) | raw log append (events/s) |")
            print("|---|---|---|---|")
            for size, docs, ours, raw in capture_rates([1, 100, args.big], work):
                print(f"| {size:,} events | {docs} | {ours:,.0f} | {raw:,.0f} |", flush=True)
        if args.only == "capture":
            return

        url = f"sqlite:///{work / 'query.db'}"
        migrate(url)
        engine = make_engine(url)
        seed(engine, args.events)
        engine.dispose()
        shutil.copy(work / "query.db", work / "scan.db")
        scan = make_engine(f"sqlite:///{work / 'scan.db'}")
        with scan.begin() as conn:
            for name in INDEXED:
                conn.execute(text(f"DROP INDEX {name}"))
            conn.exec_driver_sql("ANALYZE")
        indexed = make_engine(url)
        print(f"\nSimpleEventQuery at {args.events:,} events, one 30-event page (SQLite)\n")
        print("| query | p50 ms | p99 ms | no index p50 ms | no index p99 ms | speed-up p50 |")
        print("|---|---|---|---|---|---|")
        for name, make in queries(args.events, random.Random(7)).items():
            ours = latencies(indexed, make, args.reps)
            full = latencies(scan, make, args.scan_reps)
            print(
                f"| {name} | {pct(ours, 50):.2f} | {pct(ours, 99):.2f} | "
                f"{pct(full, 50):.1f} | {pct(full, 99):.1f} | "
                f"{statistics.median(full) / statistics.median(ours):,.0f}× |",
                flush=True,
            )
        indexed.dispose()
        scan.dispose()


if __name__ == "__main__":
    main()

"""A province's dataset as real signed log entries with their projections, deterministic
from a seed.

Run: ``nice -n 19 .venv/bin/python bench/dataset.py --events 1000000 --parties 10000
--lots 100000 --db URL --out DIR [--seed 7] [--check 2000]``; or import :func:`generate`.

What is written, in log order: the regulator (``init_regulator``); one ``party.register``
per party, signed by the regulator, with the party's own Ed25519 key (derived from the seed)
and GLN: farms (producer), processors, wholesalers (logistics), retailers, restaurants and
labs; a ``prefix.assign`` of each producer's and processor's GS1 company prefix; a
``licence.issue`` per business (食品生产许可证 SC… for processors, 食品经营许可证 JY… for
retailers and restaurants); then the supply chain of ``bench/trace_graph.py`` (farms
commission lots and ship them to processors, transformations with fan-in, commingling,
SSCC packing, wholesalers distributing to shops) as ``epcis.event`` entries, each signed by
its author's key, with the CBV 2.0 hash id and ``recordTime`` capture adds.

The fast path is the normal write path minus HTTP and the per-request checks: groups of one
signed entry go to ``MerkleLog.integrate`` (the sequencer's call: entries, tiles and every
registered projector in one transaction per chunk, a savepoint per group), so the tables
are by construction the ones the live write path fills; a refusal (custody, conflicts)
stops the run. ``--check N`` replays the provenance projection of the whole log
(``provenance.rebuild``) on a copy and compares, and audits the log. Both are the issue's
"rebuild-from-log equals the bulk-written tables; audit clean", on the dataset itself when
it is small, on a sample when it is not. ``DIR/province.json`` names the parties (id, kind,
GLN), some lots and merchant codes, the seed and the timings, for ``bench/load.py``.

Not generated yet: health certificates and lab reports (labs are registered, with keys, but
sign nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from epcis_bulk import EpcisRows  # noqa: E402
from province import REGULATOR, SHARES, event_entries, master_entries  # noqa: E402
from province import credit_code as _credit_code  # noqa: E402
from province import province as make_province  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from trace_graph import (  # noqa: E402
    BulkProjection,
    bulk_load,
)

from foodtrace.config import Settings  # noqa: E402
from foodtrace.party.models import Party as PartyRow  # noqa: E402
from foodtrace.party.service import init_regulator  # noqa: E402
from foodtrace.record import registry  # noqa: E402
from foodtrace.store import db  # noqa: E402
from foodtrace.store.leaves import Record  # noqa: E402
from foodtrace.store.log import MerkleLog  # noqa: E402
from foodtrace.trace import keys  # noqa: E402
from foodtrace.trace.entry import Entry  # noqa: E402

CHUNK = 2_000  # groups per transaction through the projectors
BULK_CHUNK = 20_000  # events per transaction on the fast path


@dataclass
class Written:
    entries: int = 0
    events: int = 0
    seconds: float = 0.0


def _chunks(entries: Iterator[Entry], size: int) -> Iterator[list[Entry]]:
    """``entries`` in lists of ``size`` (the last one shorter)."""
    chunk: list[Entry] = []
    for e in entries:
        chunk.append(e)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write(log: MerkleLog, entries: Iterator[Entry], written: Written, what: str) -> None:
    """Integrate ``entries`` as one-entry groups, CHUNK groups a transaction, through every
    registered projector; any refusal stops the run (the generator broke a rule)."""
    registry.load_types()
    t0 = time.perf_counter()
    conn = db.writer_engine(log.engine).connect()
    try:
        for chunk in _chunks(entries, CHUNK):
            _integrate(log, conn, chunk)
            written.entries += len(chunk)
            written.events += sum(x.type == "epcis.event" for x in chunk)
            if written.entries % (CHUNK * 25) == 0:
                rate = written.entries / (time.perf_counter() - t0 + written.seconds)
                print(f"  {what}: {written.entries:,} entries ({rate:,.0f}/s)", flush=True)
    finally:
        conn.close()
    written.seconds += time.perf_counter() - t0


def write_events(log: MerkleLog, entries: Iterator[Entry], written: Written, url: str) -> None:
    """The fast path for the events: the signed entries through ``MerkleLog.integrate``
    (leaves, tiles) with no projector, the EPCIS tables' rows built in memory
    (``epcis_bulk``) and inserted in the same transaction, the provenance tables projected
    in memory (``trace_graph.BulkProjection``) and loaded at the end (``trace.bulk_load``)."""
    with Session(log.engine) as session:
        glns = dict(session.execute(select(PartyRow.gln, PartyRow.party_id)).all())
    provenance = BulkProjection(glns)
    epcis = EpcisRows()
    t0 = time.perf_counter()
    conn = db.writer_engine(log.engine).connect()
    try:
        for chunk in _chunks(entries, BULK_CHUNK):
            _bulk(log, conn, chunk, provenance, epcis)
            written.entries += len(chunk)
            written.events += len(chunk)
            rate = written.entries / (time.perf_counter() - t0)
            print(f"  events: {written.entries:,} ({rate:,.0f}/s)", flush=True)
    finally:
        conn.close()
    t1 = time.perf_counter()
    bulk_load(db.make_engine(url), provenance)
    print(f"  provenance tables loaded in {time.perf_counter() - t1:.1f} s", flush=True)
    written.seconds += time.perf_counter() - t0


def _bulk(
    log: MerkleLog, conn: Any, chunk: list[Entry], provenance: BulkProjection, epcis: EpcisRows
) -> None:
    def project(c: Any, results: list[Any]) -> None:
        for signed, r in zip(chunk, results, strict=True):
            index, e = r[0], Record.of(signed).entry()  # as the projectors see it: parsed
            epcis.project(index, e)  # from the stored leaf (JCS: sorted keys, 1008.0 -> 1008)
            provenance.project(index, e.author, e.body["event"])
        epcis.flush(c)

    log.integrate(conn, [([e], []) for e in chunk], project)


def _integrate(log: MerkleLog, conn: Any, chunk: list[Entry]) -> None:
    groups = [([e], [registry.project]) for e in chunk]
    results = log.integrate(conn, groups, lambda _conn, _results: None)
    for e, r in zip(chunk, results, strict=True):
        if isinstance(r, BaseException):
            raise SystemExit(f"the generated {e.type} by {e.author} was refused: {r}")


def restart_sequences(url: str) -> None:
    """On PostgreSQL, move every ``id`` sequence past the ids the fast path wrote itself, or
    the next live insert (a capture during ``bench/load.py``) collides with them."""
    from foodtrace.store.base import Base

    engine = db.make_engine(url)
    if db.is_sqlite(engine):
        return  # SQLite takes max(rowid) + 1
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            seq = conn.exec_driver_sql(
                "SELECT pg_get_serial_sequence(%s, 'id')", (table.name,)
            ).scalar()
            if seq:
                top = f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1"
                conn.exec_driver_sql(f"SELECT setval('{seq}', {top}, false)")


def generate(
    url: str,
    out: Path,
    *,
    events: int,
    parties: int,
    lots: int,
    seed: int = 7,
    live: bool = False,
) -> dict[str, Any]:
    """Write the province into the empty database at ``url``; returns (and writes to
    ``out/province.json``) what was made and how long it took. ``live``: the events through
    every registered projector too (slow: the reference of ``--check``)."""
    out.mkdir(parents=True, exist_ok=True)
    db.migrate(url, "heads")
    settings = Settings(
        data_dir=out / "var",
        database_url=url,
        log_origin="province.foodtrace/log",
        log_key_file=out / "log.key",
    )
    p = make_province(parties, events, seed)
    t0 = time.perf_counter()
    with MerkleLog(url, settings=settings, migrate=False) as log:
        boot = init_regulator(
            log,
            party_id=REGULATOR,
            name="浙江省市场监督管理局",
            credit_code=_credit_code(0),
            key_file=out / "regulator.key",
        )
        regulator = keys.read_private(boot.key_file)
        master, chain = Written(), Written()
        write(log, master_entries(p, regulator), master, "parties, prefixes, licences")
        if live:
            write(log, event_entries(p, events, lots), chain, "events")
        else:
            write_events(log, event_entries(p, events, lots), chain, url)
        size = log.size()
        log.issue_checkpoint()
    restart_sequences(url)
    with db.make_engine(url).connect() as conn:
        from sqlalchemy import text

        lot_count = conn.execute(
            text("SELECT count(*) FROM lineage_nodes WHERE kind = 'lot'")
        ).scalar_one()
        sample = [
            r[0]
            for r in conn.execute(
                text("SELECT canonical FROM lineage_nodes WHERE kind = 'lot' ORDER BY id LIMIT 5")
            )
        ]
    summary = {
        "seed": seed,
        "url": db.redacted(url),
        "log_size": size,
        "events": chain.events,
        "lots": int(lot_count),
        "parties": len(p.parties) + 1,
        "kinds": {k: sum(x.kind == k for x in p.parties) for k in SHARES},
        "regulator": {"party_id": REGULATOR, "token": boot.token},
        "master_seconds": round(master.seconds, 1),
        "events_seconds": round(chain.seconds, 1),
        "seconds": round(time.perf_counter() - t0, 1),
        "sample_lots": sample,
        "party_list": [[x.party_id, x.kind, x.gln] for x in p.parties],
    }
    (out / "province.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--parties", type=int, default=10_000)
    ap.add_argument("--lots", type=int, default=100_000)
    ap.add_argument("--db", required=True, help="an empty database URL")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--check", type=int, default=0, metavar="N",
        help="first compare the fast path with the live one on an N-event sample",
    )  # fmt: skip
    ap.add_argument("--no-audit", action="store_true", help="skip auditing the written log")
    a = ap.parse_args()
    if a.check:
        from dataset_check import check

        check(a.check, min(a.parties, 300), a.seed)
    s = generate(a.db, a.out, events=a.events, parties=a.parties, lots=a.lots, seed=a.seed)
    shown = {k: v for k, v in s.items() if k not in ("party_list", "regulator")}
    print(json.dumps(shown, ensure_ascii=False))
    if not a.no_audit:
        from dataset_check import audit

        audit(a.db, a.out)


if __name__ == "__main__":
    main()

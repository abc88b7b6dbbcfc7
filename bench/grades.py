"""Grade recomputation of N businesses (target: 200 in <= 1 s), against the naive way.

Ours: :func:`foodtrace.grading.flows.compute` gathers each of the 8 inputs for every
business with one query, then grades each business with the pure policy functions. The
reference, measured in the same run on the same data: the same inputs read one query per
indicator per business (8 N queries), then the same grading. Also timed: a full
:func:`foodtrace.grading.flows.recompute` that signs and logs every grade (first run: all
changed) and a second one that finds nothing changed and writes nothing.

The businesses' records are inserted straight into the projection tables (licences,
certificates, inspections, reports, EPCIS events, findings, penalties): this measures
grading, not the write path.

Run: ``PYTHONPATH=. .venv/bin/python bench/grades.py`` (200 businesses, SQLite);
``--businesses 20000`` for a province-sized run, ``--db postgresql+psycopg://…`` for
PostgreSQL (an empty database).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventParty
from foodtrace.grading import flows, inputs, policyfile
from foodtrace.grading import indicators as ind
from foodtrace.grading.models import ComplaintFinding, Penalty
from foodtrace.health.models import HealthCertificate
from foodtrace.inspection.models import Inspection
from foodtrace.party.models import Licence, Party
from foodtrace.record.registry import load_types
from foodtrace.report.models import Report
from foodtrace.store.db import session_factory
from foodtrace.store.log import MerkleLog

TARGET_S = 1.0
AS_OF = date(2026, 12, 1)
RESULTS = ("合格", "基本合格", "不合格")
out = Console()


def populate(session: Session, n: int, rng: random.Random) -> None:
    """N businesses with a few records of every kind each."""
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    for pid, kind in (("insp", "inspector"), ("lab", "lab"), ("gov", "regulator")):
        session.add(Party(party_id=pid, name=pid, kind=kind, credit_code=pid, entry_index=0))
    for i in range(n):
        pid = f"biz-{i:06d}"
        session.add(
            Party(
                party_id=pid,
                name=f"商户{i}",
                kind="restaurant",
                credit_code=f"{i:018d}",
                entry_index=0,
            )
        )
    session.flush()
    for i in range(n):
        pid = f"biz-{i:06d}"
        session.add(
            Licence(
                number=f"JY{i:016d}",
                kind="food_business",
                holder=pid,
                scope="热食类",
                issuer="市场监督管理局",
                valid_from=date(2024, 1, 1),
                valid_until=date(2026, 12, 1) + timedelta(days=rng.randint(-60, 900)),
                revoked_on=None,
                entry_index=0,
            )
        )
        for c in range(rng.randint(1, 4)):
            session.add(
                HealthCertificate(
                    certificate_number=f"HC-{i}-{c}",
                    employer=pid,
                    holder_commitment="ab" * 32,
                    issuer="疾控中心",
                    valid_from=date(2026, 1, 1),
                    valid_until=date(2026, 11, 1) + timedelta(days=rng.randint(0, 120)),
                    entry_index=0,
                )
            )
        for k in range(rng.randint(0, 3)):
            session.add(
                Inspection(
                    entry_index=i * 10 + k,
                    inspector="insp",
                    party_id=pid,
                    inspected_on=date(2026, 1, 1) + timedelta(days=rng.randint(0, 330)),
                    result=rng.choice(RESULTS),
                    findings=[],
                    photos=[],
                )
            )
        if rng.random() < 0.2:
            session.add(
                Report(
                    report_number=f"R-{i}",
                    lab="lab",
                    subject_kind="party",
                    subject_party=pid,
                    tested_on=date(2026, 5, 1),
                    conclusion="fail",
                    items=[],
                    pdf_sha256="00" * 32,
                    pdf_size=1,
                    entry_index=0,
                )
            )
        if rng.random() < 0.2:
            session.add(
                ComplaintFinding(
                    tracking_number=f"TS-{i}",
                    party_id=pid,
                    substantiated=True,
                    found_on=date(2026, 7, 1),
                    handler="gov",
                    entry_index=0,
                )
            )
        if rng.random() < 0.1:
            session.add(
                Penalty(
                    decision_number=f"P-{i}",
                    party_id=pid,
                    decided_on=date(2026, 8, 1),
                    amount="1000",
                    severity="serious" if rng.random() < 0.3 else "general",
                    reason="违规",
                    regulator="gov",
                    entry_index=0,
                )
            )
        for e in range(rng.randint(2, 6)):
            when = t0 + timedelta(hours=rng.randint(0, 3000))
            step = rng.choice(("commissioning", "shipping", "receiving"))
            row = EpcisEvent(
                hash_id=f"ni:///sha-256;{i}-{e}",
                event_id=f"e-{i}-{e}",
                declares_error=False,
                type="ObjectEvent",
                action="OBSERVE",
                event_time=when,
                record_time=when + timedelta(hours=rng.choice((1, 2, 30))),
                biz_step=step,
                disposition="recalled" if rng.random() < 0.02 else "in_progress",
                read_point="urn:epc:id:sgln:0614141.00777.0",
                biz_location=None,
                author=pid,
                entry_index=i * 10 + e,  # unique; no log entry behind these rows
                body="{}",
            )
            session.add(row)
            session.flush()
            session.add(
                EpcisEventEpc(
                    event_pk=row.id,
                    role="epcList",
                    is_class=False,
                    epc=f"lot-{i}",
                    canonical=f"lot-{i}",
                    gtin="06901234567892",
                    lot=f"L{i % 50}",
                )
            )
            if step != "commissioning" and rng.random() < 0.7:
                for direction in ("source", "destination"):
                    session.add(
                        EpcisEventParty(
                            event_pk=row.id, direction=direction, type="owning_party", party="x"
                        )
                    )
    session.commit()


def naive_inputs(session: Session, since: date) -> dict[str, ind.PartyInputs]:
    """The reference: one query per indicator per business."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    out_: dict[str, ind.PartyInputs] = {}
    for pid in inputs.businesses(session):
        x = ind.PartyInputs()
        x.licences = [
            ind.LicenceFact(a, b, c)
            for a, b, c in session.execute(
                select(Licence.valid_from, Licence.valid_until, Licence.revoked_on).where(
                    Licence.holder == pid
                )
            )
        ]
        x.certificates = [
            ind.CertificateFact(a, b)
            for a, b in session.execute(
                select(HealthCertificate.valid_from, HealthCertificate.valid_until).where(
                    HealthCertificate.employer == pid
                )
            )
        ]
        x.inspections = [
            (a, b)
            for a, b in session.execute(
                select(Inspection.inspected_on, Inspection.result).where(
                    Inspection.party_id == pid, Inspection.inspected_on >= since
                )
            )
        ]
        x.failed_reports = list(
            session.scalars(
                select(Report.tested_on).where(
                    Report.subject_party == pid,
                    Report.conclusion == "fail",
                    Report.tested_on >= since,
                )
            )
        )
        x.substantiated_complaints = list(
            session.scalars(
                select(ComplaintFinding.found_on).where(
                    ComplaintFinding.party_id == pid,
                    ComplaintFinding.substantiated.is_(True),
                    ComplaintFinding.found_on >= since,
                )
            )
        )
        x.recalled_lots = inputs.recalled_lots(session, since, pid).get(pid, [])
        e = EpcisEvent
        x.trace_events = [
            ind.TraceEventFact(
                a.replace(tzinfo=a.tzinfo or UTC),
                b.replace(tzinfo=b.tzinfo or UTC),
                step,
                bool(w),
                bool(what),
                bool(src),
                bool(dst),
            )
            for a, b, step, w, what, src, dst in session.execute(
                select(
                    e.event_time,
                    e.record_time,
                    e.biz_step,
                    or_(e.read_point.is_not(None), e.biz_location.is_not(None)),
                    exists().where(EpcisEventEpc.event_pk == e.id),
                    exists().where(
                        and_(
                            EpcisEventParty.event_pk == e.id, EpcisEventParty.direction == "source"
                        )
                    ),
                    exists().where(
                        and_(
                            EpcisEventParty.event_pk == e.id,
                            EpcisEventParty.direction == "destination",
                        )
                    ),
                ).where(e.author == pid, e.event_time >= start)
            )
        ]
        x.penalties = [
            ind.PenaltyFact(a, s == "serious", r is not None)
            for a, s, r in session.execute(
                select(Penalty.decided_on, Penalty.severity, Penalty.repaired_entry_index).where(
                    Penalty.party_id == pid, Penalty.decided_on >= since
                )
            )
        ]
        out_[pid] = x
    return out_


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--businesses", type=int, default=200)
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    load_types()
    tmp = Path(tempfile.mkdtemp(prefix="bench-grades-"))
    url = args.db or f"sqlite:///{tmp / 'grades.db'}"
    # The records are inserted straight into the tables, not written: regrade on write would
    # take them for 200 businesses' pending writes and regrade all of them a second time
    # inside the first recompute's own write of its grade entries. Served, every write
    # regrades its businesses when it commits, so none is left pending for a recompute.
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        log_origin="bench.foodtrace/log",
        grade_recompute_on_write=False,
    )
    policy = policyfile.load()
    since = ind.window_start(AS_OF, policy.window_months)
    with MerkleLog(url, settings=settings) as log:
        sessions = session_factory(log.engine)
        with sessions() as session:
            t_pop, _ = timed(lambda: populate(session, args.businesses, random.Random(7)))
        with sessions() as session:
            t_ours, ours = timed(lambda: flows.compute(session, policy, AS_OF))
        with sessions() as session:
            t_naive_in, naive = timed(lambda: naive_inputs(session, since))
            t_naive_grade, naive_grades = timed(
                lambda: {p: ind.grade(policy, x, AS_OF)[1].grade for p, x in naive.items()}
            )
        same = {p: d.grade for p, _, d, _ in ours} == naive_grades
        # the first recomputation logs every grade, the second finds nothing changed
        t_first, first = timed(lambda: flows.recompute(log, sessions, settings, as_of=AS_OF))
        t_second, second = timed(lambda: flows.recompute(log, sessions, settings, as_of=AS_OF))
    dist: dict[str, int] = defaultdict(int)
    for _, _, d, _ in ours:
        dist[d.grade] += 1
    n = args.businesses
    table = Table(title=f"Grade recomputation, {n} businesses ({url.split(':')[0]})")
    for col in ("what", "seconds", "per business", "queries"):
        table.add_column(col, justify="right" if col != "what" else "left")
    table.add_row(
        "ours: gather + grade (compute)", f"{t_ours:.3f}", f"{t_ours / n * 1e3:.2f} ms", "9"
    )
    t_naive = t_naive_in + t_naive_grade
    table.add_row(
        "reference: one query per indicator per business",
        f"{t_naive:.3f}",
        f"{t_naive / n * 1e3:.2f} ms",
        f"{8 * n + 1}",
    )
    table.add_row(
        f"ours: recompute, logs {first.written} grade entries",
        f"{t_first:.3f}",
        f"{t_first / n * 1e3:.2f} ms",
        "",
    )
    table.add_row(
        f"ours: recompute again, logs {second.written}",
        f"{t_second:.3f}",
        f"{t_second / n * 1e3:.2f} ms",
        "",
    )
    out.print(table)
    out.print(
        f"grades {dict(sorted(dist.items()))}; same grades both ways: {same}; "
        f"speed-up {t_naive / t_ours:.1f}x; populate took {t_pop:.1f} s"
    )
    per200 = t_ours * 200 / n
    verdict = "meets" if per200 <= TARGET_S else "MISSES"
    out.print(
        f"target: 200 grades recomputed in <= {TARGET_S:.0f} s: {per200:.3f} s per 200 "
        f"({verdict}); logging every grade as a signed entry (first run only) adds "
        f"{(t_first - t_ours) * 200 / n:.3f} s per 200, spent in the shared write path"
    )


if __name__ == "__main__":
    main()

"""Projecting ``report.issue`` entries, and reading reports back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.party.models import Party
from foodtrace.product.models import Lot
from foodtrace.record.registry import conflict, missing, register_type
from foodtrace.report.models import Report
from foodtrace.report.schemas import LotSubject, PartySubject, ReportBody, ReportOut, TestItem
from foodtrace.store.keyset import ascending
from foodtrace.trace.custody import Subject
from foodtrace.trace.entry import Entry
from foodtrace.trace.lineage import lot_canonical

LABS = frozenset({Role.LAB})


def project_report(session: Session, index: int, entry: Entry) -> None:
    body = ReportBody.model_validate(entry.body)
    subject = body.subject
    if isinstance(subject, LotSubject):
        if session.get(Lot, (subject.gtin, subject.lot_code)) is None:
            raise missing("subject", f"lot {subject.lot_code} of {subject.gtin} is not recorded")
    elif session.get(Party, subject.party_id) is None:
        raise missing("subject.party_id", f"party {subject.party_id} is not registered")
    if session.get(Report, body.report_number) is not None:
        raise conflict("report_number", f"report {body.report_number} is already recorded")
    session.add(
        Report(
            report_number=body.report_number,
            lab=entry.author,
            subject_kind=subject.kind,
            subject_gtin=subject.gtin if isinstance(subject, LotSubject) else None,
            subject_lot=subject.lot_code if isinstance(subject, LotSubject) else None,
            subject_party=subject.party_id if isinstance(subject, PartySubject) else None,
            tested_on=body.tested_on,
            conclusion=body.conclusion.value,
            items=[i.model_dump(mode="json") for i in body.items],
            pdf_sha256=body.pdf_sha256,
            pdf_size=body.pdf_size,
            entry_index=index,
        )
    )
    session.flush()


def report_about(body: Mapping[str, Any]) -> list[Subject]:
    """A report about a lot speaks of the lot up to the end of the day it was tested (UTC,
    so a sample taken that day in China counts): a lab may issue it once the lot's holder,
    or an inspector, recorded sending it a sample by then (see
    :func:`foodtrace.trace.custody.judge_record`)."""
    report = ReportBody.model_validate(dict(body))
    subject = report.subject
    if not isinstance(subject, LotSubject):
        return []
    day_end = datetime.combine(report.tested_on + timedelta(days=1), time(), UTC)
    canonical = lot_canonical(subject.gtin, subject.lot_code)
    return [Subject("subject", canonical, day_end, sampled=True)]


register_type(
    "report.issue", roles=LABS, project=project_report, body=ReportBody, about=report_about
)


def report_out(row: Report, base: str = "/api/v1") -> ReportOut:
    subject: LotSubject | PartySubject
    if row.subject_kind == "lot":
        assert row.subject_gtin is not None and row.subject_lot is not None
        subject = LotSubject(kind="lot", gtin=row.subject_gtin, lot_code=row.subject_lot)
    else:
        assert row.subject_party is not None
        subject = PartySubject(kind="party", party_id=row.subject_party)
    return ReportOut(
        report_number=row.report_number,
        lab=row.lab,
        subject=subject,
        tested_on=row.tested_on,
        items=[TestItem.model_validate(i) for i in row.items],
        conclusion=row.conclusion,  # type: ignore[arg-type]
        pdf_sha256=row.pdf_sha256,
        pdf_size=row.pdf_size,
        pdf_url=f"{base}/reports/{row.report_number}/pdf",
        entry_index=row.entry_index,
    )


def get_report(session: Session, number: str) -> ReportOut | None:
    row = session.get(Report, number)
    return report_out(row) if row else None


def reports_about_lot(
    session: Session,
    gtin: str,
    lot_code: str,
    *,
    after: int | None = None,
    limit: int | None = None,
) -> list[ReportOut]:
    """In entry order; ``after``/``limit``: one keyset page (the API's)."""
    stmt = select(Report).where(
        Report.subject_gtin == gtin.zfill(14), Report.subject_lot == lot_code
    )
    rows = session.scalars(ascending(stmt, Report.entry_index, after, limit)).all()
    return [report_out(r) for r in rows]


def reports_about_party(
    session: Session, party_id: str, *, after: int | None = None, limit: int | None = None
) -> list[ReportOut]:
    """In entry order; ``after``/``limit``: one keyset page (the API's)."""
    stmt = select(Report).where(Report.subject_party == party_id)
    rows = session.scalars(ascending(stmt, Report.entry_index, after, limit)).all()
    return [report_out(r) for r in rows]


def report_rows_about_party(session: Session, party_id: str) -> list[Report]:
    """Reports about a party, latest test first."""
    return list(
        session.scalars(
            select(Report).where(Report.subject_party == party_id).order_by(Report.tested_on.desc())
        )
    )


def report_rows_about_lot(session: Session, gtin: str, lot_code: str) -> list[Report]:
    """Reports about a lot, latest test first."""
    return list(
        session.scalars(
            select(Report)
            .where(Report.subject_gtin == gtin, Report.subject_lot == lot_code)
            .order_by(Report.tested_on.desc())
        )
    )

"""The shop page's data (/M/{id}): the party, its licences, health certificates, latest
inspections, grade and test reports, each a fact pointing into its log entry. Every other
domain is read through its service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

from sqlalchemy.orm import Session

from foodtrace.grading.schemas import GradeKind, GradeRecordOut
from foodtrace.grading.service import current_grade
from foodtrace.health import service as health
from foodtrace.inspection import service as inspection
from foodtrace.masterdata import service as masterdata
from foodtrace.masterdata.service import SiteView
from foodtrace.party import service as parties
from foodtrace.party.models import Licence
from foodtrace.party.status import licence_status
from foodtrace.report import service as report_service
from foodtrace.resolver.display import LICENCE_STATUS_ZH, Fact, fact, records_of
from foodtrace.resolver.parties import PartyView, ReportView, party_names, party_view, report_view
from foodtrace.trace import personal

LATEST_INSPECTIONS: Final = 3
FACES: Final = {"合格": "laugh", "基本合格": "smile", "不合格": "flat"}
FACE_ZH: Final = {"laugh": "大笑", "smile": "微笑", "flat": "平脸"}


@dataclass
class LicenceView:
    number: Fact
    kind: Fact
    scope: Fact
    issuer: Fact
    valid_from: Fact
    valid_until: Fact
    status: str  # LicenceStatus value
    status_zh: str
    revoked_on: Fact | None
    revoke_reason: Fact | None


@dataclass
class CertificateView:
    number: Fact
    holder: str  # masked name (personal data lives outside the log)
    issuer: Fact
    valid_from: Fact
    valid_until: Fact
    valid: bool
    status_zh: str


@dataclass
class InspectionView:
    inspected_on: Fact
    result: Fact
    face: str
    face_zh: str
    findings: list[Fact]
    inspector: Fact | None


@dataclass
class MerchantPage:
    party: PartyView
    licences: list[LicenceView]
    certificates: list[CertificateView]
    certificates_valid: int
    certificates_expired: int
    inspections: list[InspectionView]
    grade: Fact | None
    grade_reason: Fact | None
    grade_on: Fact | None
    reports: list[ReportView]
    records: list[int] = field(default_factory=list)
    sites: list[SiteView] = field(default_factory=list)  # its GLN's sites (master data)
    grade_reasons: list[Fact] = field(default_factory=list)  # a computed grade's reasons


def _grade_facts(grade: GradeRecordOut | None) -> tuple[Fact | None, Fact | None, Fact | None]:
    """Letter, headline reason and day of the current grade, pointing into its entry: a
    computed grade (``grade.compute``) or a hand-typed one (``grade.set``)."""
    if grade is None:
        return None, None, None
    i = grade.entry_index
    if grade.kind is GradeKind.COMPUTED:
        return (
            fact(i, "/body/grade", grade.grade.value),
            fact(i, "/body/reasons/0", grade.reasons[0]),
            fact(i, "/body/as_of", grade.effective_on),
        )
    return (
        fact(i, "/body/grade", grade.grade.value),
        fact(i, "/body/reason", grade.reasons[0]),
        fact(i, "/body/effective_on", grade.effective_on),
    )


def licence_view(row: Licence, today: date) -> LicenceView:
    i = row.entry_index
    status = licence_status(row.valid_from, row.valid_until, row.revoked_on, today)
    revoked = row.revoked_entry_index
    return LicenceView(
        fact(i, "/body/number", row.number),
        fact(i, "/body/kind", row.kind, "licence_kind"),
        fact(i, "/body/scope", row.scope),
        fact(i, "/body/issuer", row.issuer),
        fact(i, "/body/valid_from", row.valid_from),
        fact(i, "/body/valid_until", row.valid_until),
        status.value,
        LICENCE_STATUS_ZH[status.value],
        fact(revoked, "/issued_at", row.revoked_on, "day") if revoked is not None else None,
        fact(revoked, "/body/reason", row.revoke_reason)
        if revoked is not None and row.revoke_reason
        else None,
    )


def merchant_page(session: Session, merchant_id: str, today: date) -> MerchantPage | None:
    """The shop's page data, or None when no party has this id or credit code."""
    row = parties.find_party(session, merchant_id)
    if row is None:
        return None
    pid = row.party_id
    licences = [licence_view(r, today) for r in parties.licence_rows(session, pid)]
    certificates = []
    for c, name in health.employer_certificate_rows(session, pid):
        i = c.entry_index
        valid = c.valid_from <= today <= c.valid_until
        certificates.append(
            CertificateView(
                fact(i, "/body/certificate_number", c.certificate_number),
                personal.mask_name(name) if name else "(已删除)",
                fact(i, "/body/issuer", c.issuer),
                fact(i, "/body/valid_from", c.valid_from),
                fact(i, "/body/valid_until", c.valid_until),
                valid,
                "有效" if valid else ("已过期" if today > c.valid_until else "尚未生效"),
            )
        )
    inspection_rows = inspection.latest_inspection_rows(session, pid, LATEST_INSPECTIONS)
    grade = current_grade(session, pid, today)
    report_rows = report_service.report_rows_about_party(session, pid)
    names = party_names(
        session, [i.inspector for i in inspection_rows] + [r.lab for r in report_rows]
    )
    inspections = []
    for ins in inspection_rows:
        i = ins.entry_index
        face = FACES.get(ins.result, "flat")
        inspector = names.get(ins.inspector)
        inspections.append(
            InspectionView(
                fact(i, "/body/inspected_on", ins.inspected_on),
                fact(i, "/body/result", ins.result),
                face,
                FACE_ZH[face],
                [fact(i, f"/body/findings/{k}", t) for k, t in enumerate(ins.findings)],
                inspector.name if inspector else None,
            )
        )
    page = MerchantPage(
        party_view(row),
        licences,
        certificates,
        sum(c.valid for c in certificates),
        sum(not c.valid for c in certificates),
        inspections,
        *_grade_facts(grade),
        [report_view(r, names) for r in report_rows],
    )
    page.sites = masterdata.party_sites(session, row.gln)
    if grade is not None and grade.kind is GradeKind.COMPUTED:
        page.grade_reasons = [
            fact(grade.entry_index, f"/body/reasons/{k}", r) for k, r in enumerate(grade.reasons)
        ][1:]
    page.records = records_of(page)
    return page

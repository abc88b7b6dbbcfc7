"""Projecting ``inspection.record`` and ``grade.set`` entries, and reading them back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.inspection.models import CreditGrade, Inspection
from foodtrace.inspection.schemas import GradeBody, GradeOut, InspectionBody, InspectionOut
from foodtrace.party.models import Party
from foodtrace.record.registry import missing, register_type
from foodtrace.trace.entry import Entry


def _party(session: Session, party_id: str) -> None:
    if session.get(Party, party_id) is None:
        raise missing("party_id", f"party {party_id} is not registered")


def project_inspection(session: Session, index: int, entry: Entry) -> None:
    body = InspectionBody.model_validate(entry.body)
    _party(session, body.party_id)
    session.add(
        Inspection(
            entry_index=index,
            inspector=entry.author,
            party_id=body.party_id,
            inspected_on=body.inspected_on,
            result=body.result.value,
            findings=list(body.findings),
            photos=list(body.photos),
        )
    )
    session.flush()


def project_grade(session: Session, index: int, entry: Entry) -> None:
    body = GradeBody.model_validate(entry.body)
    _party(session, body.party_id)
    session.add(
        CreditGrade(
            entry_index=index,
            party_id=body.party_id,
            grade=body.grade.value,
            effective_on=body.effective_on,
            reason=body.reason,
            set_by=entry.author,
        )
    )
    session.flush()


register_type(
    "inspection.record",
    roles=frozenset({Role.INSPECTOR}),
    project=project_inspection,
    body=InspectionBody,
)
register_type("grade.set", roles=frozenset({Role.REGULATOR}), project=project_grade, body=GradeBody)


def get_inspection(session: Session, entry_index: int) -> InspectionOut | None:
    row = session.get(Inspection, entry_index)
    return InspectionOut.model_validate(row, from_attributes=True) if row else None


def party_inspections(session: Session, party_id: str) -> list[InspectionOut]:
    rows = session.scalars(
        select(Inspection).where(Inspection.party_id == party_id).order_by(Inspection.entry_index)
    ).all()
    return [InspectionOut.model_validate(r, from_attributes=True) for r in rows]


def party_grades(session: Session, party_id: str) -> list[GradeOut]:
    """Every grade the party was given, newest (the current one) first."""
    rows = session.scalars(
        select(CreditGrade)
        .where(CreditGrade.party_id == party_id)
        .order_by(CreditGrade.entry_index.desc())
    ).all()
    return [GradeOut.model_validate(r, from_attributes=True) for r in rows]

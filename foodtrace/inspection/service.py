"""Projecting ``inspection.record``, ``inspection.ack`` and ``grade.set`` entries, and reading
visits back with their faces and acknowledgements.

A visit is 双签 (double-signed) once two entries exist: the inspector's ``inspection.record``
and an ``inspection.ack`` signed by the merchant itself (``method: key``) or by the platform
after the merchant confirmed the visit's one-time code (``method: code``, see
:mod:`foodtrace.inspection.flows`). The projector checks who signed which.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.config import Settings
from foodtrace.inspection import rules
from foodtrace.inspection.models import CreditGrade, Inspection, InspectionAck
from foodtrace.inspection.schemas import (
    AckBody,
    AckMethod,
    AckOut,
    ChecklistItem,
    CorrectiveAction,
    FacesOut,
    GradeBody,
    GradeOut,
    InspectionBody,
    InspectionOut,
    InspectionResult,
)
from foodtrace.party.models import Party
from foodtrace.record.registry import ProjectionError, conflict, missing, register_type
from foodtrace.store.authors import utc
from foodtrace.store.keyset import ascending
from foodtrace.trace.entry import Entry

RECORD_TYPE = "inspection.record"
ACK_TYPE = "inspection.ack"


def _party(session: Session, party_id: str) -> None:
    if session.get(Party, party_id) is None:
        raise missing("party_id", f"party {party_id} is not registered")


def _platform_author() -> str:
    return Settings().platform_author


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
            checklist=[c.model_dump(mode="json", exclude_none=True) for c in body.checklist],
            corrective_actions=[c.model_dump(mode="json") for c in body.corrective_actions],
        )
    )
    session.flush()


def project_ack(session: Session, index: int, entry: Entry) -> None:
    body = AckBody.model_validate(entry.body)
    visit = session.get(Inspection, body.inspection)
    if visit is None:
        raise missing("inspection", f"no inspection is recorded at entry {body.inspection}")
    if body.party_id != visit.party_id:
        raise missing(
            "party_id", f"expected {visit.party_id}: the party inspection {visit.entry_index} names"
        )
    if body.method is AckMethod.KEY and entry.author != visit.party_id:
        raise ProjectionError(
            403, [("method", f"expected {visit.party_id} to sign an acknowledgement by key")]
        )
    if body.method is AckMethod.CODE and entry.author != _platform_author():
        raise ProjectionError(
            403,
            [("method", "a code acknowledgement is signed by the platform once the code checks")],
        )
    if session.get(InspectionAck, body.inspection) is not None:
        raise conflict("inspection", f"inspection {body.inspection} is already acknowledged")
    session.add(
        InspectionAck(
            inspection_index=body.inspection,
            author=entry.author,
            method=body.method.value,
            acknowledged_at=body.acknowledged_at,
            entry_index=index,
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
    RECORD_TYPE,
    roles=frozenset({Role.INSPECTOR}),
    project=project_inspection,
    body=InspectionBody,
)
# The merchant (any supply-chain party) signs by key; the platform (regulator-level) by code.
register_type(
    ACK_TYPE, roles=frozenset({Role.PRODUCER, Role.REGULATOR}), project=project_ack, body=AckBody
)
register_type("grade.set", roles=frozenset({Role.REGULATOR}), project=project_grade, body=GradeBody)


# --- reads ----------------------------------------------------------------------------------


def inspection_out(row: Inspection, ack: InspectionAck | None) -> InspectionOut:
    result = InspectionResult(row.result)
    actions = [CorrectiveAction.model_validate(a) for a in row.corrective_actions or []]
    acknowledged = utc(ack.acknowledged_at) if ack is not None else None
    return InspectionOut(
        entry_index=row.entry_index,
        inspector=row.inspector,
        party_id=row.party_id,
        inspected_on=row.inspected_on,
        result=result,
        findings=list(row.findings),
        photos=list(row.photos),
        checklist=[ChecklistItem.model_validate(c) for c in row.checklist or []],
        corrective_actions=actions,
        face=rules.dynamic_face(result),
        reinspection_due=rules.reinspection_due(
            result, row.inspected_on, (a.deadline for a in actions)
        ),
        acknowledgement=(
            AckOut(
                entry_index=ack.entry_index,
                author=ack.author,
                method=AckMethod(ack.method),
                acknowledged_at=acknowledged,
            )
            if ack is not None and acknowledged is not None
            else None
        ),
        double_signed=ack is not None,
    )


def _with_acks(session: Session, rows: list[Inspection]) -> list[InspectionOut]:
    acks = {
        a.inspection_index: a
        for a in session.scalars(
            select(InspectionAck).where(
                InspectionAck.inspection_index.in_([r.entry_index for r in rows])
            )
        )
    }
    return [inspection_out(r, acks.get(r.entry_index)) for r in rows]


def get_inspection(session: Session, entry_index: int) -> InspectionOut | None:
    row = session.get(Inspection, entry_index)
    return inspection_out(row, session.get(InspectionAck, entry_index)) if row else None


def party_inspections(
    session: Session, party_id: str, *, after: int | None = None, limit: int | None = None
) -> list[InspectionOut]:
    """In entry order; ``after``/``limit``: one keyset page (the API's)."""
    stmt = select(Inspection).where(Inspection.party_id == party_id)
    rows = session.scalars(ascending(stmt, Inspection.entry_index, after, limit)).all()
    return _with_acks(session, list(rows))


def unacknowledged(
    session: Session,
    *,
    party_ids: list[str] | None = None,
    inspector: str | None = None,
    after: int | None = None,
    limit: int = 500,
) -> list[InspectionOut]:
    """Visits the merchant has not signed yet (not 双签), oldest first; ``after``/``limit``:
    one keyset page (the API's)."""
    query = (
        select(Inspection)
        .outerjoin(InspectionAck, InspectionAck.inspection_index == Inspection.entry_index)
        .where(InspectionAck.inspection_index.is_(None))
        .order_by(Inspection.entry_index)
        .limit(limit)
    )
    if party_ids is not None:
        query = query.where(Inspection.party_id.in_(party_ids))
    if inspector is not None:
        query = query.where(Inspection.inspector == inspector)
    if after is not None:
        query = query.where(Inspection.entry_index > after)
    return [inspection_out(r, None) for r in session.scalars(query)]


def faces(session: Session, party_id: str, today: date) -> FacesOut:
    """The latest visit's face and the annual face of the 12 months up to ``today``."""
    visits = [
        (d, InspectionResult(r))
        for d, r in session.execute(
            select(Inspection.inspected_on, Inspection.result)
            .where(Inspection.party_id == party_id, Inspection.inspected_on <= today)
            .order_by(Inspection.inspected_on, Inspection.entry_index)
        )
    ]
    window = [v for v in visits if today - rules.ANNUAL_WINDOW < v[0]]
    return FacesOut(
        party_id=party_id,
        dynamic=rules.dynamic_face(visits[-1][1]) if visits else None,
        annual=rules.annual_face(visits, today),
        visits_12_months=len(window),
        as_of=today,
    )


def party_grades(session: Session, party_id: str) -> list[GradeOut]:
    """Every grade the party was given, newest (the current one) first."""
    rows = session.scalars(
        select(CreditGrade)
        .where(CreditGrade.party_id == party_id)
        .order_by(CreditGrade.entry_index.desc())
    ).all()
    return [GradeOut.model_validate(r, from_attributes=True) for r in rows]


def latest_inspection_rows(session: Session, party_id: str, limit: int) -> list[Inspection]:
    """A party's latest ``limit`` inspections, newest first."""
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.party_id == party_id)
            .order_by(Inspection.inspected_on.desc(), Inspection.entry_index.desc())
            .limit(limit)
        )
    )

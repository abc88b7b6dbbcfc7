"""Projecting the grading area's entries, and reading grades, penalties and repairs back.

``grade.compute`` is signed by the platform's key (see :mod:`foodtrace.grading.flows`): a
computed grade is the mechanical result of a published policy applied to logged records, so
no person vouches for it; the projector re-derives scores, total, grade and reasons from the
entry's own indicator values and the named policy, and refuses an entry that does not
follow, whoever signed it. The role allowed to write it is ``regulator`` (the platform writes
as a regulator-level principal built by the server, never from a token).

Hand-typed ``grade.set`` entries (before grades were computed) stay in the log and in
``credit_grades``; they are read as history, and count as the current grade only for a party
that has no computed grade yet.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.service import find_merchant
from foodtrace.grading import policyfile
from foodtrace.grading.current import latest_computed
from foodtrace.grading.models import ComplaintFinding, ComputedGrade, Penalty, RepairApplication
from foodtrace.grading.policy import PolicyError, decide, indicators_from_json, rescore_problems
from foodtrace.grading.schemas import (
    FindingBody,
    GradeComputeBody,
    GradeKind,
    GradeRecordOut,
    PenaltyBody,
    PenaltyOut,
    RepairApplyBody,
    RepairDecideBody,
    RepairOut,
    RepairOutcome,
)
from foodtrace.inspection.models import CreditGrade
from foodtrace.party.models import Party
from foodtrace.record.registry import ProjectionError, conflict, missing, register_type
from foodtrace.store.keyset import descending, pair_after
from foodtrace.trace.entry import Entry

GRADE_TYPE = "grade.compute"
PENALTY_TYPE = "penalty.record"
FINDING_TYPE = "complaint.finding"
REPAIR_APPLY_TYPE = "repair.apply"
REPAIR_DECIDE_TYPE = "repair.decide"
PENDING = "pending"


def _party(session: Session, party_id: str) -> None:
    if session.get(Party, party_id) is None:
        raise missing("party_id", f"party {party_id} is not registered")


_KNOWN_PARTIES = "grading.known_parties"


def _graded_party(session: Session, party_id: str) -> None:
    """:func:`_party` for grade entries, which come in groups of hundreds: every party id is
    read once per session (parties are never removed, so a hit stays true) instead of one
    lookup per entry; a miss still asks the database (a party registered since)."""
    known: set[str] | None = session.info.get(_KNOWN_PARTIES)
    if known is None:
        known = set(session.scalars(select(Party.party_id)))
        session.info[_KNOWN_PARTIES] = known
    if party_id not in known:
        _party(session, party_id)
        known.add(party_id)


def project_grade(session: Session, index: int, entry: Entry) -> None:
    """Not flushed here: a recomputation logs one group of up to every business's grade,
    and leaving the rows to the group's commit lets it insert them in one batch instead of
    one flush (and one autoflush before each party lookup) per entry. Nothing later in a
    group reads ``computed_grades``."""
    body = GradeComputeBody.model_validate(entry.body)
    with session.no_autoflush:
        _graded_party(session, body.party_id)
    try:
        policy = policyfile.load(body.policy_version)
    except PolicyError as exc:
        raise missing("policy_version", str(exc)) from None
    values = indicators_from_json([i.model_dump() for i in body.indicators])
    problems = [("indicators", p) for p in rescore_problems(policy, values)]
    if not problems:
        try:
            decision = decide(policy, values)
        except PolicyError as exc:
            raise ProjectionError(422, [("indicators", str(exc))]) from None
        if abs(decision.total - body.total) > 1e-6:
            problems.append(("total", f"expected {decision.total:g} from the indicators"))
        if decision.grade != body.grade.value:
            problems.append(("grade", f"expected {decision.grade} under policy {policy.version}"))
        if list(decision.reasons) != body.reasons:
            problems.append(("reasons", "expected the reasons the policy gives"))
    if problems:
        raise ProjectionError(422, problems)
    session.add(
        ComputedGrade(
            entry_index=index,
            party_id=body.party_id,
            grade=body.grade.value,
            total=body.total,
            as_of=body.as_of,
            policy_version=body.policy_version,
            indicators=[i.model_dump() for i in body.indicators],
            reasons=list(body.reasons),
            author=entry.author,
        )
    )


def project_penalty(session: Session, index: int, entry: Entry) -> None:
    body = PenaltyBody.model_validate(entry.body)
    _party(session, body.party_id)
    if session.get(Penalty, body.decision_number) is not None:
        raise conflict("decision_number", f"penalty {body.decision_number} is already recorded")
    session.add(
        Penalty(
            decision_number=body.decision_number,
            party_id=body.party_id,
            decided_on=body.decided_on,
            amount=body.amount,
            severity=body.severity.value,
            reason=body.reason,
            regulator=entry.author,
            entry_index=index,
            repaired_entry_index=None,
        )
    )
    session.flush()


def project_finding(session: Session, index: int, entry: Entry) -> None:
    body = FindingBody.model_validate(entry.body)
    complaint = session.get(Complaint, body.tracking_number)
    if complaint is None:
        raise missing("tracking_number", f"no complaint {body.tracking_number} is recorded")
    if session.get(ComplaintFinding, body.tracking_number) is not None:
        raise conflict("tracking_number", f"complaint {body.tracking_number} already has a finding")
    merchant = find_merchant(session, complaint.merchant_id)
    if merchant is None:
        raise missing(
            "tracking_number", f"the complaint's merchant {complaint.merchant_id} is unknown"
        )
    session.add(
        ComplaintFinding(
            tracking_number=body.tracking_number,
            party_id=merchant.party_id,
            substantiated=body.substantiated,
            found_on=body.found_on,
            handler=entry.author,
            entry_index=index,
        )
    )
    session.flush()


def project_repair_apply(session: Session, index: int, entry: Entry) -> None:
    body = RepairApplyBody.model_validate(entry.body)
    if body.party_id != entry.author:
        raise ProjectionError(
            403,
            [
                (
                    "party_id",
                    f"expected {entry.author}: a merchant applies for repair for itself only",
                )
            ],
        )
    _party(session, body.party_id)
    if session.get(RepairApplication, body.application_id) is not None:
        raise conflict("application_id", f"application {body.application_id} is already recorded")
    problems = []
    for k, number in enumerate(body.penalties):
        p = session.get(Penalty, number)
        if p is None or p.party_id != body.party_id:
            problems.append(
                (f"penalties.{k}", f"no penalty {number} of {body.party_id} is recorded")
            )
        elif p.repaired_entry_index is not None:
            problems.append((f"penalties.{k}", f"penalty {number} is already repaired"))
    if problems:
        raise ProjectionError(422, problems)
    session.add(
        RepairApplication(
            application_id=body.application_id,
            party_id=body.party_id,
            penalties=list(body.penalties),
            corrective_action=body.corrective_action,
            applied_on=body.applied_on,
            entry_index=index,
            status=PENDING,
        )
    )
    session.flush()


def project_repair_decide(session: Session, index: int, entry: Entry) -> None:
    body = RepairDecideBody.model_validate(entry.body)
    app = session.get(RepairApplication, body.application_id)
    if app is None:
        raise missing("application_id", f"no repair application {body.application_id}")
    if app.status != PENDING:
        raise conflict(
            "application_id", f"application {body.application_id} is already {app.status}"
        )
    app.status = body.outcome.value
    app.decided_by, app.decided_on = entry.author, body.decided_on
    app.decision_reason, app.decision_entry_index = body.reason, index
    if body.outcome is RepairOutcome.APPROVED:
        for number in app.penalties:
            penalty = session.get(Penalty, number)
            assert penalty is not None
            penalty.repaired_entry_index = index
    session.flush()


register_type(
    GRADE_TYPE, roles=frozenset({Role.REGULATOR}), project=project_grade, body=GradeComputeBody
)
register_type(
    PENALTY_TYPE, roles=frozenset({Role.REGULATOR}), project=project_penalty, body=PenaltyBody
)
register_type(
    FINDING_TYPE,
    roles=frozenset({Role.REGULATOR, Role.INSPECTOR}),
    project=project_finding,
    body=FindingBody,
)
register_type(
    REPAIR_APPLY_TYPE,
    roles=frozenset({Role.PRODUCER}),
    project=project_repair_apply,
    body=RepairApplyBody,
)
register_type(
    REPAIR_DECIDE_TYPE,
    roles=frozenset({Role.REGULATOR}),
    project=project_repair_decide,
    body=RepairDecideBody,
)


# --- reads ------------------------------------------------------------------------------------


def _computed_out(row: ComputedGrade) -> GradeRecordOut:
    return GradeRecordOut.model_validate(
        {
            "entry_index": row.entry_index,
            "party_id": row.party_id,
            "kind": GradeKind.COMPUTED,
            "grade": row.grade,
            "effective_on": row.as_of,
            "policy_version": row.policy_version,
            "total": row.total,
            "indicators": row.indicators,
            "reasons": row.reasons,
            "author": row.author,
        }
    )


def _set_out(row: CreditGrade) -> GradeRecordOut:
    return GradeRecordOut.model_validate(
        {
            "entry_index": row.entry_index,
            "party_id": row.party_id,
            "kind": GradeKind.SET,
            "grade": row.grade,
            "effective_on": row.effective_on,
            "policy_version": None,
            "total": None,
            "indicators": None,
            "reasons": [row.reason],
            "author": row.set_by,
        }
    )


def party_grades(
    session: Session, party_id: str, *, before: int | None = None, limit: int | None = None
) -> list[GradeRecordOut]:
    """Every grade of the party, computed and hand-typed, newest entry first;
    ``before``/``limit``: one keyset page (the API's), each table read only that far."""
    computed = session.scalars(
        descending(
            select(ComputedGrade).where(ComputedGrade.party_id == party_id),
            ComputedGrade.entry_index,
            before,
            limit,
        )
    ).all()
    typed = session.scalars(
        descending(
            select(CreditGrade).where(CreditGrade.party_id == party_id),
            CreditGrade.entry_index,
            before,
            limit,
        )
    ).all()
    out = [_computed_out(r) for r in computed] + [_set_out(r) for r in typed]
    return sorted(out, key=lambda g: g.entry_index, reverse=True)[:limit]


def current_grades(
    session: Session, today: date, party_ids: Collection[str] | None = None
) -> dict[str, GradeRecordOut]:
    """Each party's (or each of ``party_ids``') current grade: its newest computed grade,
    else its newest hand-typed one in effect by ``today``."""
    out = {p: _computed_out(r) for p, r in latest_computed(session, party_ids).items()}
    typed = select(CreditGrade).where(CreditGrade.effective_on <= today)
    if party_ids is not None:
        typed = typed.where(CreditGrade.party_id.in_(list(party_ids)))
    for row in session.scalars(typed.order_by(CreditGrade.entry_index)):
        if row.party_id not in out or out[row.party_id].kind is GradeKind.SET:
            out[row.party_id] = _set_out(row)
    return out


def current_grade(session: Session, party_id: str, today: date) -> GradeRecordOut | None:
    row = session.scalars(
        select(ComputedGrade)
        .where(ComputedGrade.party_id == party_id)
        .order_by(ComputedGrade.entry_index.desc())
        .limit(1)
    ).first()
    if row is not None:
        return _computed_out(row)
    typed = session.scalars(
        select(CreditGrade)
        .where(CreditGrade.party_id == party_id, CreditGrade.effective_on <= today)
        .order_by(CreditGrade.entry_index.desc())
        .limit(1)
    ).first()
    return _set_out(typed) if typed else None


def penalty_out(row: Penalty) -> PenaltyOut:
    return PenaltyOut.model_validate(
        {
            "entry_index": row.entry_index,
            "party_id": row.party_id,
            "decision_number": row.decision_number,
            "decided_on": row.decided_on,
            "amount": row.amount,
            "severity": row.severity,
            "reason": row.reason,
            "regulator": row.regulator,
            "repaired": row.repaired_entry_index is not None,
        }
    )


def party_penalties(
    session: Session,
    party_id: str,
    *,
    before: tuple[date, int] | None = None,
    limit: int | None = None,
) -> list[PenaltyOut]:
    """Newest decision first (ties: newest entry first); ``before``/``limit``: one keyset
    page (the API's), after the (decided_on, entry_index) the previous page ended with."""
    stmt = (
        select(Penalty)
        .where(Penalty.party_id == party_id)
        .order_by(Penalty.decided_on.desc(), Penalty.entry_index.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(pair_after(Penalty.decided_on, Penalty.entry_index, before, desc=True))
    rows = session.scalars(stmt).all()
    return [penalty_out(r) for r in rows]


def get_penalty(session: Session, decision_number: str) -> PenaltyOut | None:
    row = session.get(Penalty, decision_number)
    return penalty_out(row) if row else None


def get_repair(session: Session, application_id: str) -> RepairOut | None:
    row = session.get(RepairApplication, application_id)
    return RepairOut.model_validate(row, from_attributes=True) if row else None


def finding_party(session: Session, tracking_number: str) -> str:
    row = session.get(ComplaintFinding, tracking_number)
    assert row is not None, "called after the finding was projected"
    return row.party_id

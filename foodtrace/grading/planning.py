"""The inspection schedule: every graded business's next due inspection (reads only)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.grading import policyfile
from foodtrace.grading.schedule import DueStatus, due, with_reinspection
from foodtrace.grading.schemas import ScheduleOut
from foodtrace.grading.service import current_grades
from foodtrace.inspection import rules
from foodtrace.inspection.models import Inspection
from foodtrace.inspection.schemas import InspectionResult
from foodtrace.party.models import Party

ORDER = {DueStatus.OVERDUE: 0, DueStatus.DUE: 1, DueStatus.SCHEDULED: 2}


def schedule(
    session: Session, today: date, *, party_id: str | None = None, status: DueStatus | None = None
) -> list[ScheduleOut]:
    """Most overdue first, then by due day. Frequencies come from the policy the grade was
    computed under (the current policy for hand-typed grades)."""
    grades = current_grades(session, today)
    if party_id is not None:
        grades = {p: g for p, g in grades.items() if p == party_id}
    last: dict[str, date] = {}
    reinspect: dict[str, date | None] = {}
    visits = session.execute(
        select(
            Inspection.party_id,
            Inspection.inspected_on,
            Inspection.result,
            Inspection.corrective_actions,
        )
        .where(Inspection.inspected_on <= today)
        .order_by(Inspection.inspected_on, Inspection.entry_index)
    )
    for pid, on, result, actions in visits:  # the last visit of each party wins
        last[pid] = on
        reinspect[pid] = rules.reinspection_due(
            InspectionResult(result), on, (date.fromisoformat(a["deadline"]) for a in actions or [])
        )
    names = dict(session.execute(select(Party.party_id, Party.name)).all())
    out = []
    for pid, g in grades.items():
        policy = policyfile.load(g.policy_version or policyfile.CURRENT)
        d = due(policy, g.grade.value, g.effective_on, last.get(pid), today)
        d = with_reinspection(policy, d, reinspect.get(pid), today)
        if status is not None and d.status is not status:
            continue
        out.append(
            ScheduleOut(
                party_id=pid,
                name=names.get(pid, pid),
                grade=g.grade,
                grade_entry_index=g.entry_index,
                last_inspected_on=d.last_inspected_on,
                due_on=d.due_on,
                status=d.status.value,
                days_overdue=d.days_overdue,
                inspection_interval_days=d.inspection_interval_days,
                patrol_interval_days=d.patrol_interval_days,
                review_interval_days=d.review_interval_days,
                inspections_per_year=d.inspections_per_year,
                reinspection=d.reinspection,
            )
        )
    return sorted(out, key=lambda s: (ORDER[DueStatus(s.status)], s.due_on, s.party_id))

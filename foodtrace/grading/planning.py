"""The inspection schedule: every graded business's next due inspection (reads only)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foodtrace.grading import policyfile
from foodtrace.grading.current import current, first_graded
from foodtrace.grading.schedule import DueStatus, due, with_reinspection
from foodtrace.grading.schemas import ScheduleOut
from foodtrace.inspection import rules
from foodtrace.inspection.models import Inspection
from foodtrace.inspection.schemas import InspectionResult
from foodtrace.party.models import Party

ORDER = {DueStatus.OVERDUE: 0, DueStatus.DUE: 1, DueStatus.SCHEDULED: 2}
ScheduleKey = tuple[int, date, str]
"""A business's place in the schedule (:func:`order_key`): a page's cursor."""


def last_visits(
    session: Session, today: date, party_ids: Collection[str] | None = None
) -> list[tuple[str, date, str, Any]]:
    """Each business's last visit by ``today`` (party, day, result, corrective actions): the
    latest day, and of one day the latest entry; picked in SQL by a window function."""
    i = Inspection
    rank = (
        func.row_number()
        .over(partition_by=i.party_id, order_by=(i.inspected_on.desc(), i.entry_index.desc()))
        .label("rank")
    )
    ranked = select(i.party_id, i.inspected_on, i.result, i.corrective_actions, rank).where(
        i.inspected_on <= today
    )
    if party_ids is not None:
        ranked = ranked.where(i.party_id.in_(list(party_ids)))
    sub = ranked.subquery()
    picked = select(sub.c.party_id, sub.c.inspected_on, sub.c.result, sub.c.corrective_actions)
    return [(p, on, r, a) for p, on, r, a in session.execute(picked.where(sub.c.rank == 1))]


def schedule(
    session: Session,
    today: date,
    *,
    party_id: str | None = None,
    party_ids: Collection[str] | None = None,
    status: DueStatus | None = None,
    after: ScheduleKey | None = None,
    limit: int | None = None,
) -> list[ScheduleOut]:
    """Most overdue first, then by due day, then party id (:func:`order_key`). Frequencies
    come from the policy the grade was computed under (the current policy for hand-typed
    grades). ``party_id``/``party_ids``: only those businesses (a grid's), each table read
    for them only. ``after``/``limit``: one keyset page (the API's), the businesses after
    that place in the order; the due days are computed from every graded business's grade
    and last visit first (in Python: the policies' intervals are not in the database)."""
    ids = [party_id] if party_id is not None else party_ids
    grades = current(session, today, ids)
    since = first_graded(session, today, ids)
    last: dict[str, date] = {}
    reinspect: dict[str, date | None] = {}
    for pid, on, result, actions in last_visits(session, today, ids):
        last[pid] = on
        reinspect[pid] = rules.reinspection_due(
            InspectionResult(result), on, (date.fromisoformat(a["deadline"]) for a in actions or [])
        )
    names_query = select(Party.party_id, Party.name)
    if ids is not None:
        names_query = names_query.where(Party.party_id.in_(list(grades)))
    names = dict(session.execute(names_query).all())
    out = []
    for pid, g in grades.items():
        policy = policyfile.load(g.policy_version or policyfile.CURRENT)
        d = due(policy, g.grade.value, since.get(pid, g.effective_on), last.get(pid), today)
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
    ordered = sorted(out, key=order_key)
    if after is not None:
        ordered = [s for s in ordered if order_key(s) > after]
    return ordered if limit is None else ordered[:limit]


def order_key(item: ScheduleOut) -> ScheduleKey:
    """The schedule's order: most overdue first, then by due day, then by party id."""
    return (ORDER[DueStatus(item.status)], item.due_on, item.party_id)

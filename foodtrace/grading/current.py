"""Each party's current grade, picked in SQL: the newest computed grade, else the newest
hand-typed one in effect (the rule :func:`foodtrace.grading.service.current_grades` states).

The workbench and the schedule need only the letter, the day and the policy of a grid's
few dozen businesses; reading every grade row of the district (with its indicators' JSON) to
keep the last of each was most of a page's cost. Here the database keeps the newest row per
party (``max(entry_index)`` grouped by party) and only the columns asked for are read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import CompoundSelect, exists, func, select, union_all
from sqlalchemy.orm import Session

from foodtrace.grading.models import ComputedGrade
from foodtrace.grading.schemas import GradeKind
from foodtrace.inspection.models import CreditGrade
from foodtrace.inspection.schemas import Grade


@dataclass(frozen=True)
class CurrentGrade:
    """The head of a party's current grade (what a list or a schedule shows)."""

    party_id: str
    entry_index: int
    kind: GradeKind
    grade: Grade
    effective_on: date
    policy_version: str | None


def latest_computed(
    session: Session, party_ids: Collection[str] | None = None
) -> dict[str, ComputedGrade]:
    """The newest computed grade of every party that has one (or of ``party_ids``)."""
    newest = select(func.max(ComputedGrade.entry_index)).group_by(ComputedGrade.party_id)
    if party_ids is not None:
        newest = newest.where(ComputedGrade.party_id.in_(list(party_ids)))
    rows = session.scalars(
        select(ComputedGrade)
        .where(ComputedGrade.entry_index.in_(newest))
        .order_by(ComputedGrade.party_id)
    )
    return {r.party_id: r for r in rows}


def current(
    session: Session, today: date, party_ids: Collection[str] | None = None
) -> dict[str, CurrentGrade]:
    """The current grade of every graded party, or of ``party_ids``, by party id."""
    ids = list(party_ids) if party_ids is not None else None
    c = ComputedGrade
    newest = select(func.max(c.entry_index)).group_by(c.party_id)
    if ids is not None:
        newest = newest.where(c.party_id.in_(ids))
    out = {
        pid: CurrentGrade(pid, index, GradeKind.COMPUTED, Grade(grade), as_of, version)
        for pid, index, grade, as_of, version in session.execute(
            select(c.party_id, c.entry_index, c.grade, c.as_of, c.policy_version).where(
                c.entry_index.in_(newest)
            )
        )
    }
    t = CreditGrade
    typed = select(func.max(t.entry_index)).where(t.effective_on <= today).group_by(t.party_id)
    if ids is not None:
        typed = typed.where(t.party_id.in_(ids))
    for pid, index, grade, on in session.execute(
        select(t.party_id, t.entry_index, t.grade, t.effective_on).where(t.entry_index.in_(typed))
    ):
        if pid not in out:  # a computed grade, once there is one, is the current grade
            out[pid] = CurrentGrade(pid, index, GradeKind.SET, Grade(grade), on, None)
    return out


def first_graded(
    session: Session, today: date, party_ids: Collection[str] | None = None
) -> dict[str, date]:
    """The day each graded party (or each of ``party_ids``) was first graded, computed or
    hand-typed (in effect by ``today``): when it came under graded supervision, where the
    schedule counts a never-inspected business's first interval from."""
    ids = list(party_ids) if party_ids is not None else None
    c, t = ComputedGrade, CreditGrade
    computed = select(c.party_id, func.min(c.as_of)).group_by(c.party_id)
    typed = select(t.party_id, func.min(t.effective_on)).where(t.effective_on <= today)
    if ids is not None:
        computed = computed.where(c.party_id.in_(ids))
        typed = typed.where(t.party_id.in_(ids))
    out: dict[str, date] = {}
    for pid, day in [*session.execute(computed), *session.execute(typed.group_by(t.party_id))]:
        out[pid] = min(out.get(pid, day), day)
    return out


def heads(today: date) -> CompoundSelect[str, str, date]:
    """:func:`current` as one statement of ``(party_id, grade, effective_on)`` rows, one per
    graded party, for a query that filters or orders by the current grade in SQL (the red
    and black lists page on it)."""
    c, t = ComputedGrade, CreditGrade
    computed = select(c.party_id, c.grade, c.as_of.label("effective_on")).where(
        c.entry_index.in_(select(func.max(c.entry_index)).group_by(c.party_id))
    )
    typed_newest = (
        select(func.max(t.entry_index)).where(t.effective_on <= today).group_by(t.party_id)
    )
    typed = select(t.party_id, t.grade, t.effective_on).where(
        t.entry_index.in_(typed_newest),
        ~exists().where(c.party_id == t.party_id),  # a computed grade outranks a typed one
    )
    return union_all(computed, typed)

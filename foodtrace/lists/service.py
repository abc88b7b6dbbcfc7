"""Who is on the red and black lists on a given day.

Red (守信, e.g. 红色合伙人): current grade A. Black (失信): current grade D, or a serious
penalty (``penalty.record`` with severity ``serious``) decided within the policy's
``black_serious_months`` and not repaired (信用修复 approved). Each entry lists its reasons
with the day each took effect and the log entry that says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, func, select, union_all
from sqlalchemy.orm import Session

from foodtrace.grading import policyfile
from foodtrace.grading.current import heads
from foodtrace.grading.indicators import window_start
from foodtrace.grading.models import Penalty
from foodtrace.grading.schemas import GradeRecordOut
from foodtrace.grading.service import current_grades
from foodtrace.lists.schemas import LIST_TITLES, ListedParty, ListKind, ListOut, ListReason
from foodtrace.party.models import Party
from foodtrace.store.keyset import pair_after

RED_GRADES = frozenset({"A"})
BLACK_GRADES = frozenset({"D"})


def _grade_reasons(g: GradeRecordOut) -> list[ListReason]:
    head = f"信用等级 {g.grade.value}"
    details = g.reasons[1:] if g.indicators is not None else g.reasons
    text = head + ("：" + "；".join(details) if details else "")
    return [ListReason(reason=text, on=g.effective_on, entry_index=g.entry_index)]


def _serious(today: date, months: int) -> ColumnElement[bool]:
    """A penalty that blacklists on ``today``: serious, unrepaired, within ``months``."""
    return (
        (Penalty.severity == "serious")
        & Penalty.repaired_entry_index.is_(None)
        & (Penalty.decided_on >= window_start(today, months))
        & (Penalty.decided_on <= today)
    )


def _listed(
    kind: ListKind, today: date, months: int, before: tuple[date, str] | None, limit: int | None
) -> Select[str, date]:
    """``(party_id, since)`` of the listed parties, newest listing first (ties: party id
    descending), after ``before``: the day a party is listed since is its earliest reason's,
    so the order is computed in SQL and a page is read with a LIMIT."""
    current = heads(today).subquery()
    wanted = RED_GRADES if kind is ListKind.RED else BLACK_GRADES
    reasons = select(current.c.party_id, current.c.effective_on.label("on")).where(
        current.c.grade.in_(sorted(wanted))
    )
    if kind is ListKind.BLACK:
        penalties = select(Penalty.party_id, Penalty.decided_on).where(_serious(today, months))
        every = union_all(reasons, penalties).subquery()
    else:
        every = reasons.subquery()
    listed = (
        select(every.c.party_id, func.min(every.c.on).label("since"))
        .group_by(every.c.party_id)
        .subquery()
    )
    stmt = select(listed.c.party_id, listed.c.since)
    if before is not None:
        stmt = stmt.where(pair_after(listed.c.since, listed.c.party_id, before, desc=True))
    stmt = stmt.order_by(listed.c.since.desc(), listed.c.party_id.desc())
    return stmt if limit is None else stmt.limit(limit)


def listing(
    session: Session,
    kind: ListKind,
    today: date,
    *,
    before: tuple[date, str] | None = None,
    limit: int | None = None,
) -> ListOut:
    """The list on ``today``, newest listing first; ``before``/``limit``: one keyset page
    (the API's) on ``(since, party_id)``, only that page's parties read in full."""
    policy = policyfile.load()
    page = [
        (pid, since)
        for pid, since in session.execute(
            _listed(kind, today, policy.black_serious_months, before, limit)
        )
    ]
    ids = [pid for pid, _ in page]
    grades = current_grades(session, today, ids)
    reasons: dict[str, list[ListReason]] = {pid: [] for pid in ids}
    wanted = RED_GRADES if kind is ListKind.RED else BLACK_GRADES
    for pid, g in grades.items():
        if g.grade.value in wanted:
            reasons[pid].extend(_grade_reasons(g))
    if kind is ListKind.BLACK and ids:
        for p in session.scalars(
            select(Penalty).where(
                Penalty.party_id.in_(ids), _serious(today, policy.black_serious_months)
            )
        ):
            reasons[p.party_id].append(
                ListReason(
                    reason=f"严重违法行政处罚 {p.decision_number}：{p.reason}",
                    on=p.decided_on,
                    entry_index=p.entry_index,
                )
            )
    parties = {p.party_id: p for p in session.scalars(select(Party).where(Party.party_id.in_(ids)))}
    out = []
    for pid, since in page:
        party = parties.get(pid)
        current = grades.get(pid)
        rs = sorted(reasons[pid], key=lambda r: (r.on, r.entry_index))
        out.append(
            ListedParty(
                party_id=pid,
                name=party.name if party else pid,
                region=party.region if party else None,
                grade=current.grade.value if current else None,
                since=since,
                reasons=rs,
            )
        )
    return ListOut(
        kind=kind,
        title=LIST_TITLES[kind],
        as_of=today,
        policy_version=policy.version,
        parties=out,
    )

"""Who is on the red and black lists on a given day.

Red (守信, e.g. 红色合伙人): current grade A. Black (失信): current grade D, or a serious
penalty (``penalty.record`` with severity ``serious``) decided within the policy's
``black_serious_months`` and not repaired (信用修复 approved). Each entry lists its reasons
with the day each took effect and the log entry that says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.grading import policyfile
from foodtrace.grading.indicators import window_start
from foodtrace.grading.models import Penalty
from foodtrace.grading.schemas import GradeRecordOut
from foodtrace.grading.service import current_grades
from foodtrace.lists.schemas import LIST_TITLES, ListedParty, ListKind, ListOut, ListReason
from foodtrace.party.models import Party

RED_GRADES = frozenset({"A"})
BLACK_GRADES = frozenset({"D"})


def _grade_reasons(g: GradeRecordOut) -> list[ListReason]:
    head = f"信用等级 {g.grade.value}"
    details = g.reasons[1:] if g.indicators is not None else g.reasons
    text = head + ("：" + "；".join(details) if details else "")
    return [ListReason(reason=text, on=g.effective_on, entry_index=g.entry_index)]


def listing(session: Session, kind: ListKind, today: date) -> ListOut:
    policy = policyfile.load()
    grades = current_grades(session, today)
    reasons: dict[str, list[ListReason]] = {}
    wanted = RED_GRADES if kind is ListKind.RED else BLACK_GRADES
    for pid, g in grades.items():
        if g.grade.value in wanted:
            reasons.setdefault(pid, []).extend(_grade_reasons(g))
    if kind is ListKind.BLACK:
        since = window_start(today, policy.black_serious_months)
        for p in session.scalars(
            select(Penalty).where(
                Penalty.severity == "serious",
                Penalty.repaired_entry_index.is_(None),
                Penalty.decided_on >= since,
                Penalty.decided_on <= today,
            )
        ):
            reasons.setdefault(p.party_id, []).append(
                ListReason(
                    reason=f"严重违法行政处罚 {p.decision_number}：{p.reason}",
                    on=p.decided_on,
                    entry_index=p.entry_index,
                )
            )
    parties = {
        p.party_id: p
        for p in session.scalars(select(Party).where(Party.party_id.in_(list(reasons))))
    }
    out = []
    for pid, rs in reasons.items():
        party = parties.get(pid)
        current = grades.get(pid)
        rs.sort(key=lambda r: (r.on, r.entry_index))
        out.append(
            ListedParty(
                party_id=pid,
                name=party.name if party else pid,
                region=party.region if party else None,
                grade=current.grade.value if current else None,
                since=rs[0].on,
                reasons=rs,
            )
        )
    out.sort(key=lambda p: (p.since, p.party_id), reverse=True)
    return ListOut(
        kind=kind,
        title=LIST_TITLES[kind],
        as_of=today,
        policy_version=policy.version,
        parties=out,
    )

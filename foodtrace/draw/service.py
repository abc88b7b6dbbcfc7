"""Projecting ``draw.commit`` and ``draw.result``, the candidate rule, and reading draws.

The commit's projector recomputes the candidates (the rule over the current grades) and the
inspector pool, and refuses a commitment that lists others: a regulator cannot leave a
merchant out of the lottery. The result's projector re-runs the draw from the commitment
and the block hash and refuses any other list. Whether that hash really is the chain's
block is checked when the result is made (:mod:`foodtrace.draw.flows`) and by anyone with
``foodtrace draw verify``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.draw import sampling
from foodtrace.draw.models import Draw
from foodtrace.draw.schemas import Candidate, DrawCommitBody, DrawOut, DrawResultBody, Rule
from foodtrace.grading import policyfile
from foodtrace.grading.flows import local_day
from foodtrace.grading.inputs import businesses
from foodtrace.grading.service import current_grades
from foodtrace.party.models import Party
from foodtrace.record.registry import ProjectionError, conflict, missing, register_type
from foodtrace.store.keyset import descending
from foodtrace.trace.entry import Entry

COMMIT_TYPE = "draw.commit"
RESULT_TYPE = "draw.result"
INSPECTOR_KIND = "inspector"


def candidates(session: Session, rule: Rule, today: date) -> list[Candidate]:
    """Businesses matching ``rule`` that have a current grade, sorted by party id."""
    grades = current_grades(session, today)
    wanted_grades = {g.value for g in rule.grades}
    rows = {
        p.party_id: p
        for p in session.scalars(select(Party).where(Party.party_id.in_(businesses(session))))
    }
    out = []
    for pid in sorted(rows, key=str.encode):
        g = grades.get(pid)
        p = rows[pid]
        if g is None or (wanted_grades and g.grade.value not in wanted_grades):
            continue
        if rule.kinds and p.kind not in rule.kinds:
            continue
        if rule.region and p.region != rule.region:
            continue
        out.append(Candidate(party_id=pid, grade=g.grade))
    return out


def inspectors(session: Session) -> list[str]:
    ids = session.scalars(select(Party.party_id).where(Party.kind == INSPECTOR_KIND)).all()
    return sorted(ids, key=str.encode)


def project_commit(session: Session, index: int, entry: Entry) -> None:
    body = DrawCommitBody.model_validate(entry.body)
    if session.get(Draw, body.draw_id) is not None:
        raise conflict("draw_id", f"draw {body.draw_id} is already committed")
    problems = []
    try:
        policy = policyfile.load(body.policy_version)
    except ValueError as exc:
        raise missing("policy_version", str(exc)) from None
    if body.weights != dict(policy.draw_weights):
        problems.append(
            ("weights", f"expected policy {policy.version}'s {dict(policy.draw_weights)}")
        )
    today = local_day(entry.issued_datetime())
    expected = candidates(session, body.rule, today)
    if body.candidates != expected:
        problems.append(
            ("candidates", f"expected the {len(expected)} businesses the rule selects, sorted")
        )
    if body.inspectors != inspectors(session):
        problems.append(("inspectors", "expected every registered inspector, sorted"))
    if problems:
        raise ProjectionError(422, problems)
    session.add(
        Draw(
            draw_id=body.draw_id,
            period=body.period,
            block_number=body.block_number,
            commitment=dict(entry.body),  # exactly as signed and published
            committed_by=entry.author,
            commit_entry_index=index,
        )
    )
    session.flush()


def project_result(session: Session, index: int, entry: Entry) -> None:
    body = DrawResultBody.model_validate(entry.body)
    draw = session.get(Draw, body.draw_id)
    if draw is None:
        raise missing("draw_id", f"no draw {body.draw_id} is committed")
    if draw.result is not None:
        raise conflict("draw_id", f"draw {body.draw_id} already has a result")
    if body.commit_entry_index != draw.commit_entry_index:
        raise missing("commit_entry_index", f"expected {draw.commit_entry_index}")
    result = dict(entry.body)
    try:
        sampling.verify(draw.commitment, result)
    except sampling.DrawError as exc:
        raise ProjectionError(422, [("merchants", str(exc))]) from None
    draw.block_hash, draw.result, draw.result_entry_index = body.block_hash, result, index
    session.flush()


register_type(
    COMMIT_TYPE, roles=frozenset({Role.REGULATOR}), project=project_commit, body=DrawCommitBody
)
register_type(
    RESULT_TYPE, roles=frozenset({Role.REGULATOR}), project=project_result, body=DrawResultBody
)


def draw_out(row: Draw) -> DrawOut:
    return DrawOut(
        draw_id=row.draw_id,
        period=row.period,
        commit_entry_index=row.commit_entry_index,
        committed_by=row.committed_by,
        commitment=row.commitment,
        result_entry_index=row.result_entry_index,
        result=row.result,
    )


def get_draw(session: Session, draw_id: str) -> DrawOut | None:
    row = session.get(Draw, draw_id)
    return draw_out(row) if row else None


def list_draws(
    session: Session,
    period: str | None = None,
    *,
    before: int | None = None,
    limit: int | None = None,
) -> list[DrawOut]:
    """Newest commitment first; ``before``/``limit``: one keyset page (the API's) on the
    commitment's entry index."""
    query = select(Draw)
    if period is not None:
        query = query.where(Draw.period == period)
    return [
        draw_out(r)
        for r in session.scalars(descending(query, Draw.commit_entry_index, before, limit))
    ]

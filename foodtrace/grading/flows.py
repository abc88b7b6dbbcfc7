"""Recomputing grades: gather every input at once, grade every business, and log a
``grade.compute`` entry only for those whose grade or indicator values changed.

"Recomputed when any input changes": every input is a projection of the log except the
calendar (a licence expires without any entry). The bookmark in ``grading_state`` keeps the
log size, day and policy version of the last full recomputation; :func:`dirty` is true when
any moved, and :func:`drain` (``foodtrace grades recompute``, or a periodic task) then
recomputes everything (a few queries and ~ms per hundred businesses, see
``bench/grades.py``). Writes through this area's own routes (penalties, findings, repairs)
recompute the party they touch at once.

The entries go through the one write path (:func:`foodtrace.record.service.submit`), signed
by the platform's key as a server-built regulator-level principal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.grading import indicators as ind
from foodtrace.grading import inputs, policyfile
from foodtrace.grading.current import latest_computed
from foodtrace.grading.models import ComputedGrade, GradingState
from foodtrace.grading.policy import Decision, Indicator, Policy
from foodtrace.grading.schemas import RecomputeOut
from foodtrace.grading.service import GRADE_TYPE
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.service import submit
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

SessionFactory = Callable[[], Session]
STATE_ID = 1


CHINA = timezone(timedelta(hours=8))  # licences expire and grades date by China's calendar


def local_day(moment: datetime | None = None) -> date:
    """The day in China (UTC+8) at ``moment`` (default: now): the calendar grades use."""
    return (moment or datetime.now(UTC)).astimezone(CHINA).date()


def _signature(
    indicators: Iterable[dict[str, Any]],
) -> list[tuple[str, float, float, tuple[Any, ...]]]:
    """Indicator values in a form that compares equal whatever JSON made of the numbers."""
    return [
        (
            str(i["name"]),
            float(i["value"]),
            float(i["score"]),
            tuple(sorted((k, float(v)) for k, v in dict(i.get("facts", {})).items())),
        )
        for i in indicators
    ]


def changed(
    previous: ComputedGrade | None, policy: Policy, values: list[Indicator], d: Decision
) -> bool:
    if previous is None:
        return True
    return (
        previous.grade != d.grade
        or previous.policy_version != policy.version
        or _signature(previous.indicators) != _signature(v.to_json() for v in values)
    )


def grade_body(
    party_id: str, as_of: date, policy: Policy, values: list[Indicator], d: Decision
) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "as_of": as_of.isoformat(),
        "policy_version": policy.version,
        "indicators": [v.to_json() for v in values],
        "total": d.total,
        "grade": d.grade,
        "reasons": list(d.reasons),
    }


def compute(
    session: Session, policy: Policy, as_of: date, only: Iterable[str] | None = None
) -> list[tuple[str, list[Indicator], Decision, bool]]:
    """Every business's indicators and grade, and whether it differs from its last one."""
    since = ind.window_start(as_of, policy.window_months)
    gathered = inputs.gather(session, since, only)
    previous = latest_computed(session, list(gathered) if only is not None else None)
    out = []
    for party_id, party_inputs in gathered.items():
        values, decision = ind.grade(policy, party_inputs, as_of)
        out.append(
            (party_id, values, decision, changed(previous.get(party_id), policy, values, decision))
        )
    return out


def platform_principal(settings: Settings) -> Principal:
    return Principal(settings.platform_author, Role.REGULATOR, token_id=0)


def recompute(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    *,
    as_of: date | None = None,
    only: Iterable[str] | None = None,
    policy: Policy | None = None,
) -> RecomputeOut:
    """Recompute (all, or ``only`` these parties) and log the grades that changed."""
    as_of = as_of or local_day()
    policy = policy or policyfile.load()
    with session_factory() as session:
        results = compute(session, policy, as_of, only)
    bodies = [grade_body(p, as_of, policy, v, d) for p, v, d, differs in results if differs]
    indices: list[int] = []
    if bodies:
        key = platform_key(settings)
        with session_factory() as session, session.begin():
            ensure_platform_author(session, settings.platform_author, key)
        entries: list[Entry] = [
            entry_mod.sign(key, type=GRADE_TYPE, author=settings.platform_author, body=b)
            for b in bodies
        ]
        refs = submit(log, session_factory, platform_principal(settings), entries)
        indices = [r.index for r in refs]
    if only is None:
        with session_factory() as session, session.begin():
            _bookmark(session, log.size(), as_of, policy.version)
    return RecomputeOut(parties=len(results), written=len(indices), entry_indices=indices)


def _bookmark(session: Session, size: int, as_of: date, version: str) -> None:
    state = session.get(GradingState, STATE_ID)
    if state is None:
        session.add(GradingState(id=STATE_ID, log_size=size, as_of=as_of, policy_version=version))
    else:
        state.log_size, state.as_of, state.policy_version = size, as_of, version


def dirty(log: MerkleLog, session: Session, as_of: date, version: str = policyfile.CURRENT) -> bool:
    """True when the log grew, the day changed or the policy changed since the last full
    recomputation (or there was none)."""
    state = session.get(GradingState, STATE_ID)
    return (
        state is None
        or state.log_size != log.size()
        or state.as_of != as_of
        or state.policy_version != version
    )


def drain(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    *,
    as_of: date | None = None,
    force: bool = False,
) -> RecomputeOut | None:
    """Recompute everything if anything moved since last time (or ``force``); None if not."""
    as_of = as_of or local_day()
    with session_factory() as session:
        if not force and not dirty(log, session, as_of):
            return None
    return recompute(log, session_factory, settings, as_of=as_of)

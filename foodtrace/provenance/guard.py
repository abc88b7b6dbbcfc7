"""The custody check of records other than EPCIS events (a test report about a lot): run by
:func:`foodtrace.record.registry.project` for every entry type that declares what its
bodies are about, with the pure rules of :func:`foodtrace.trace.custody.judge_record`.

EPCIS events are checked by :func:`foodtrace.provenance.projection.check_custody`, with the
same holds and the custody moves they make.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventParty
from foodtrace.provenance import parties
from foodtrace.provenance.models import Containment, LineageNode
from foodtrace.provenance.projection import load_state
from foodtrace.record.registry import ProjectionError
from foodtrace.trace import custody
from foodtrace.trace.entry import Entry

SAMPLING: Final = "sampling"
"""The CBV business step of taking a sample of an object for testing."""


def check_record(session: Session, entry: Entry, subjects: Sequence[custody.Subject]) -> None:
    """Refuse (403, naming each offending field and who holds the object) a record about
    objects its author neither holds nor held at the record's time, nor was sent a sample
    of; exempt authors (inspectors, regulators) may write about any object."""
    exempt = bool(parties.author_roles(session, entry.author) & parties.EXEMPT_ROLES)
    if exempt:
        return
    canonicals = [s.canonical for s in subjects]
    sampled = [s for s in subjects if s.sampled]
    refusals = custody.judge_record(
        entry.author, exempt, subjects, load_state(session, canonicals), samplers(session, sampled)
    )
    if refusals:
        raise ProjectionError(403, [(r.field, r.detail) for r in refusals])


def samplers(session: Session, subjects: Sequence[custody.Subject]) -> dict[str, frozenset[str]]:
    """Per subject, the parties a ``sampling`` event about it, or about a logistic unit
    (SSCC) it was packed in when the event was recorded, named as a destination (where the
    sample went) by the subject's time, leaving out events declared in error. Such an event
    passed the custody check: its author held the object (or the unit, and so what was in
    it), or is an inspector."""
    if not subjects:
        return {}
    packed = _packed_in(session, [s.canonical for s in subjects])
    named = {s.canonical for s in subjects} | {unit for unit, _, _, _ in packed}
    declared = aliased(EpcisEvent)
    rows = session.execute(
        select(
            EpcisEventEpc.canonical,
            EpcisEvent.event_time,
            EpcisEventParty.party,
            EpcisEvent.entry_index,
        )
        .join(EpcisEvent, EpcisEvent.id == EpcisEventEpc.event_pk)
        .join(EpcisEventParty, EpcisEventParty.event_pk == EpcisEvent.id)
        .where(
            EpcisEventEpc.canonical.in_(sorted(named)),
            EpcisEvent.biz_step == SAMPLING,
            EpcisEvent.declares_error.is_(False),
            EpcisEventParty.direction == "destination",
            ~select(declared.id)
            .where(declared.hash_id == EpcisEvent.hash_id, declared.declares_error.is_(True))
            .exists(),
        )
    ).all()
    until = {s.canonical: s.at for s in subjects}
    found: dict[str, set[str]] = {}
    for canonical, at, destination, index in rows:
        about = [canonical] if canonical in until else []
        about += [
            child
            for unit, child, since, upto in packed
            if unit == canonical and since <= index and (upto is None or index < upto)
        ]
        about = [c for c in about if _utc(at) <= until[c]]
        party = parties.party_for(session, destination) if about else None
        if party is not None:
            for c in about:
                found.setdefault(c, set()).add(party)
    return {c: frozenset(p) for c, p in found.items()}


def _packed_in(
    session: Session, canonicals: Sequence[str]
) -> list[tuple[str, str, int, int | None]]:
    """``(unit, child, since_entry, until_entry)``: the logistic units the objects
    ``canonicals`` were ever packed in, and for which entries."""
    child, unit = aliased(LineageNode), aliased(LineageNode)
    rows = session.execute(
        select(unit.canonical, child.canonical, Containment.since_entry, Containment.until_entry)
        .join(child, child.id == Containment.child)
        .join(unit, unit.id == Containment.parent)
        .where(child.canonical.in_(canonicals))
    )
    return [(u, c, since, upto) for u, c, since, upto in rows]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

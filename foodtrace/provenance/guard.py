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
    """Per subject, the parties a ``sampling`` event about it named as a destination (where
    the sample went) by the subject's time, leaving out events declared in error. Such an
    event passed the custody check: its author held the object, or is an inspector."""
    if not subjects:
        return {}
    declared = aliased(EpcisEvent)
    rows = session.execute(
        select(EpcisEventEpc.canonical, EpcisEvent.event_time, EpcisEventParty.party)
        .join(EpcisEvent, EpcisEvent.id == EpcisEventEpc.event_pk)
        .join(EpcisEventParty, EpcisEventParty.event_pk == EpcisEvent.id)
        .where(
            EpcisEventEpc.canonical.in_([s.canonical for s in subjects]),
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
    for canonical, at, named in rows:
        if _utc(at) > until[canonical]:
            continue
        party = parties.party_for(session, named)
        if party is not None:
            found.setdefault(canonical, set()).add(party)
    return {c: frozenset(p) for c, p in found.items()}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""Gathering the grade inputs of every business at once: one query per indicator.

Each ``gather_*`` reads one input for all parties (restricted to the policy window where the
indicator has one) and returns it keyed by party id, so recomputing 200 or 20,000 grades
costs 8 queries, not 8 per business. :func:`recalled_lots` is the one place that knows what
"involved in a recall" means; it reads EPCIS events with disposition ``recalled`` until the
recall area's own records replace it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import CTE, Exists, Select, and_, exists, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from foodtrace.auth.models import Role, role_for_party_kind
from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventParty
from foodtrace.grading.indicators import (
    CertificateFact,
    LicenceFact,
    PartyInputs,
    PenaltyFact,
    TraceEventFact,
)
from foodtrace.grading.models import ComplaintFinding, Penalty
from foodtrace.health.models import HealthCertificate
from foodtrace.inspection.models import Inspection
from foodtrace.party.models import Licence, Party
from foodtrace.report.models import Report
from foodtrace.store.authors import utc

RECALLED = "recalled"


Only = list[str] | None
"""The businesses to read inputs for, or None for every one."""


def businesses(session: Session, only: Iterable[str] | None = None) -> list[str]:
    """Party ids of every supply-chain business (the kinds that write as producers), sorted:
    regulators, inspectors and labs are not graded."""
    wanted = sorted(set(only)) if only is not None else None
    rows = session.execute(select(Party.party_id, Party.kind).where(*_of(Party.party_id, wanted)))
    return sorted(party_id for party_id, kind in rows if role_for_party_kind(kind) is Role.PRODUCER)


def _start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def _of(column: Any, only: Only) -> list[Any]:
    """The WHERE clause keeping ``only``'s rows (none when every party is wanted)."""
    return [column.in_(only)] if only is not None else []


def gather_licences(session: Session, only: Only = None) -> dict[str, list[LicenceFact]]:
    out: dict[str, list[LicenceFact]] = defaultdict(list)
    for holder, vf, vu, rev in session.execute(
        select(Licence.holder, Licence.valid_from, Licence.valid_until, Licence.revoked_on).where(
            *_of(Licence.holder, only)
        )
    ):
        out[holder].append(LicenceFact(vf, vu, rev))
    return out


def gather_certificates(session: Session, only: Only = None) -> dict[str, list[CertificateFact]]:
    out: dict[str, list[CertificateFact]] = defaultdict(list)
    for employer, vf, vu in session.execute(
        select(
            HealthCertificate.employer, HealthCertificate.valid_from, HealthCertificate.valid_until
        ).where(*_of(HealthCertificate.employer, only))
    ):
        out[employer].append(CertificateFact(vf, vu))
    return out


def gather_inspections(
    session: Session, since: date, only: Only = None
) -> dict[str, list[tuple[date, str]]]:
    out: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for party_id, on, result in session.execute(
        select(Inspection.party_id, Inspection.inspected_on, Inspection.result).where(
            Inspection.inspected_on >= since, *_of(Inspection.party_id, only)
        )
    ):
        out[party_id].append((on, result))
    return out


def held_lots(only: list[str]) -> CTE:
    """The lots (GTIN + lot) ``only``'s EPCIS events name, with the party that named them:
    where a regrade of a few businesses starts when it looks for reports and recalls about
    the lots they handled (their events by author, then the lots those events name).

    Materialized so the database cannot start instead from every failed report or recalled
    event and keep ``only``'s rows last (what a planner without statistics did)."""
    epc, e = EpcisEventEpc, EpcisEvent  # a CTE of its own: the queries joining it alias theirs
    return (
        select(e.author.label("party"), epc.gtin.label("gtin"), epc.lot.label("lot"))
        .join(epc, epc.event_pk == e.id)
        .where(e.author.in_(only), epc.gtin.is_not(None), epc.lot.is_not(None))
        .distinct()
        .cte("held_lots")
        .prefix_with("MATERIALIZED")
    )


def gather_failed_reports(
    session: Session, since: date, only: Only = None
) -> dict[str, list[date]]:
    """Failed reports about the party itself, or about a lot it recorded an event for."""
    failed = (Report.conclusion == "fail", Report.tested_on >= since)
    about_party = select(
        Report.subject_party.label("party"), Report.report_number, Report.tested_on
    ).where(*failed, Report.subject_party.is_not(None), *_of(Report.subject_party, only))
    about_lot: Select[str, str, date]
    if only is None:
        about_lot = (
            select(EpcisEvent.author.label("party"), Report.report_number, Report.tested_on)
            .join(
                EpcisEventEpc,
                and_(
                    EpcisEventEpc.gtin == Report.subject_gtin,
                    EpcisEventEpc.lot == Report.subject_lot,
                ),
            )
            .join(EpcisEvent, EpcisEvent.id == EpcisEventEpc.event_pk)
            .where(*failed)
        )
    else:
        held = held_lots(only)
        about_lot = (
            select(held.c.party, Report.report_number, Report.tested_on)
            .select_from(held)
            .join(
                Report, and_(Report.subject_gtin == held.c.gtin, Report.subject_lot == held.c.lot)
            )
            .where(*failed)
        )
    out: dict[str, list[date]] = defaultdict(list)
    rows: Any = session.execute(union(about_party, about_lot))
    for party, _number, tested_on in rows:
        out[str(party)].append(tested_on)
    return out


def gather_complaints(session: Session, since: date, only: Only = None) -> dict[str, list[date]]:
    out: dict[str, list[date]] = defaultdict(list)
    for party_id, on in session.execute(
        select(ComplaintFinding.party_id, ComplaintFinding.found_on).where(
            ComplaintFinding.substantiated.is_(True),
            ComplaintFinding.found_on >= since,
            *_of(ComplaintFinding.party_id, only),
        )
    ):
        out[party_id].append(on)
    return out


# Built once: an ORM alias works out its columns on first use, a cost every regrade paid.
_RECALL_EPC = aliased(EpcisEventEpc, name="recall_epc")
_RECALL_EVENT = aliased(EpcisEvent, name="recall_event")
_HELD_EPC = aliased(EpcisEventEpc, name="held_epc")
_HELD = aliased(EpcisEvent, name="held_event")


def recalled_lots(
    session: Session, since: date, author: str | None = None, only: Only = None
) -> dict[str, list[date]]:
    """Per party, the lots (GTIN + lot) it recorded events for that an EPCIS event with
    disposition ``recalled`` names, each with the day of the first such event.

    The one function to swap for the recall area's records when they land. ``author``
    restricts it to one party (the benchmark's per-business reference). For every party the
    recalled events lead (there are few); for some, their own lots do (:func:`held_lots`)."""
    wanted = [author] if author is not None else only
    recall_epc, recall_event, held_epc, held_event = _RECALL_EPC, _RECALL_EVENT, _HELD_EPC, _HELD
    recalled = (
        recall_event.disposition == RECALLED,
        recall_event.event_time >= _start(since),
        recall_epc.lot.is_not(None),
    )
    first = func.min(recall_event.event_time)
    query: Select[str, str | None, str | None, datetime]
    if wanted is None:
        query = (
            select(held_event.author, recall_epc.gtin, recall_epc.lot, first)
            .select_from(recall_event)
            .join(recall_epc, recall_epc.event_pk == recall_event.id)
            .join(held_epc, and_(held_epc.gtin == recall_epc.gtin, held_epc.lot == recall_epc.lot))
            .join(held_event, held_event.id == held_epc.event_pk)
            .where(*recalled)
            .group_by(held_event.author, recall_epc.gtin, recall_epc.lot)
        )
    else:
        held = held_lots(wanted)
        query = (
            select(held.c.party, held.c.gtin, held.c.lot, first)
            .select_from(held)
            .join(recall_epc, and_(recall_epc.gtin == held.c.gtin, recall_epc.lot == held.c.lot))
            .join(recall_event, recall_event.id == recall_epc.event_pk)
            .where(*recalled)
            .group_by(held.c.party, held.c.gtin, held.c.lot)
        )
    out: dict[str, list[date]] = defaultdict(list)
    for party, _gtin, _lot, day in session.execute(query):
        when = utc(day)
        assert when is not None
        out[party].append(when.date())
    return out


def gather_trace_events(
    session: Session, since: date, only: Only = None
) -> dict[str, list[TraceEventFact]]:
    e = EpcisEvent

    def party(direction: str) -> Exists:
        return exists().where(
            EpcisEventParty.event_pk == e.id, EpcisEventParty.direction == direction
        )

    rows = session.execute(
        select(
            e.author,
            e.event_time,
            e.record_time,
            e.biz_step,
            or_(e.read_point.is_not(None), e.biz_location.is_not(None)),
            exists().where(EpcisEventEpc.event_pk == e.id),
            party("source"),
            party("destination"),
        ).where(e.event_time >= _start(since), e.declares_error.is_(False), *_of(e.author, only))
    )
    out: dict[str, list[TraceEventFact]] = defaultdict(list)
    for author, et, rt, step, where, what, src, dst in rows:
        event_time, record_time = utc(et), utc(rt)
        assert event_time is not None and record_time is not None
        out[author].append(
            TraceEventFact(
                event_time, record_time, step, bool(where), bool(what), bool(src), bool(dst)
            )
        )
    return out


def gather_penalties(
    session: Session, since: date, only: Only = None
) -> dict[str, list[PenaltyFact]]:
    out: dict[str, list[PenaltyFact]] = defaultdict(list)
    for party_id, on, severity, repaired in session.execute(
        select(
            Penalty.party_id, Penalty.decided_on, Penalty.severity, Penalty.repaired_entry_index
        ).where(Penalty.decided_on >= since, *_of(Penalty.party_id, only))
    ):
        out[party_id].append(PenaltyFact(on, severity == "serious", repaired is not None))
    return out


def gather(
    session: Session, since: date, only: Iterable[str] | None = None
) -> dict[str, PartyInputs]:
    """Every business's inputs from ``since`` on (the start of the policy window); with
    ``only``, those businesses' (each table read for them only: a regrade on write of one
    shop reads that shop's rows, not the district's)."""
    parties = businesses(session, only)
    ids = parties if only is not None else None
    licences = gather_licences(session, ids)
    certificates = gather_certificates(session, ids)
    inspections = gather_inspections(session, since, ids)
    reports = gather_failed_reports(session, since, ids)
    complaints = gather_complaints(session, since, ids)
    recalls = recalled_lots(session, since, only=ids)
    trace = gather_trace_events(session, since, ids)
    penalties = gather_penalties(session, since, ids)
    return {
        p: PartyInputs(
            licences=licences.get(p, []),
            certificates=certificates.get(p, []),
            inspections=inspections.get(p, []),
            failed_reports=reports.get(p, []),
            substantiated_complaints=complaints.get(p, []),
            recalled_lots=recalls.get(p, []),
            trace_events=trace.get(p, []),
            penalties=penalties.get(p, []),
        )
        for p in parties
    }

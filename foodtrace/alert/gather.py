"""Reading every alert out of the projections (the imperative shell around
:mod:`foodtrace.alert.rules`): a handful of queries per call, whatever the number of
businesses.

Sources: licences and health certificates, EPCIS temperature readings, the scan service's
clone suspects (its public :func:`foodtrace.scan.service.suspects`), routed and unrouted
complaints, the inspection schedule, open recalls and visits not yet acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from typing import Any

from sqlalchemy import bindparam, literal, select, true, union_all
from sqlalchemy.orm import Session

from foodtrace.alert.rules import (
    EXPIRY_HORIZON,
    TEMPERATURE_WINDOW,
    Alert,
    Kind,
    excursion,
    expiry,
)
from foodtrace.complaint.clocks import Clocks, deadlines
from foodtrace.complaint.models import Complaint
from foodtrace.config import Settings
from foodtrace.epcis.models import EpcisEvent, EpcisSensorReading
from foodtrace.grading.flows import local_day
from foodtrace.grading.planning import schedule
from foodtrace.grading.schedule import DueStatus
from foodtrace.health.models import HealthCertificate
from foodtrace.inspection.service import unacknowledged
from foodtrace.party.models import Licence, Party
from foodtrace.product.models import Product
from foodtrace.recall.service import calendar, list_cases
from foodtrace.resolver.settings import ResolverSettings
from foodtrace.scan.service import suspects
from foodtrace.store.authors import utc

TEMPERATURE_TYPES = ("Temperature", "gs1:Temperature")
Parties = list[str] | None
"""The businesses to read alerts for (sorted, unique), or None for all."""
InspectionAlerts = Callable[[Session, date, Parties], list[Alert]]
"""The inspection alerts of a day for some businesses (:func:`inspection_alerts`)."""


def _in(column: Any, scoped: bool) -> Any:
    """``column IN :only`` (one expanding parameter, bound at execution: building it does not
    coerce a grid's ids one by one), or no condition for all businesses."""
    return column.in_(bindparam("only", expanding=True)) if scoped else true()


def _rows(session: Session, query: Any, only: Parties, **params: Any) -> Iterable[Any]:
    """Rows of a Core query of columns, on the session's connection (no ORM round)."""
    return session.connection().execute(
        query, {**params, **({} if only is None else {"only": only})}
    )


def _licences(session: Session, today_: datetime, only: Parties) -> Iterable[Alert | None]:
    """Licences and health certificates expired or expiring within the horizon, in one
    query: those valid beyond it are not read."""
    today = local_day(today_)
    query = _expiring(only is not None)
    for licence, number, holder, until in _rows(
        session, query, only, horizon=today + EXPIRY_HORIZON
    ):
        kinds = (
            (Kind.LICENCE_EXPIRING, Kind.LICENCE_EXPIRED)
            if licence
            else (Kind.CERTIFICATE_EXPIRING, Kind.CERTIFICATE_EXPIRED)
        )
        yield expiry(kinds, holder, number, until, today)


@cache
def _expiring(scoped: bool) -> Any:
    lic, h = Licence, HealthCertificate
    licences = select(
        literal(True).label("licence"), lic.number, lic.holder, lic.valid_until
    ).where(
        lic.revoked_on.is_(None), lic.valid_until <= bindparam("horizon"), _in(lic.holder, scoped)
    )
    certificates = select(literal(False), h.certificate_number, h.employer, h.valid_until).where(
        h.valid_until <= bindparam("horizon"), _in(h.employer, scoped)
    )
    return union_all(licences, certificates)


@cache
def _readings(scoped: bool) -> Any:
    e, s = EpcisEvent, EpcisSensorReading
    return (
        select(e.author, e.event_id, e.event_time, s.value, s.uom, s.type)
        .join(s, s.event_pk == e.id)
        .where(e.event_time >= bindparam("since"), s.value.is_not(None), _in(e.author, scoped))
    )


def _temperatures(session: Session, now: datetime, only: Parties) -> Iterable[Alert | None]:
    query = _readings(only is not None)
    cfg: ResolverSettings | None = None  # read from the environment only if there are readings
    for author, event_id, at, value, uom, kind in _rows(
        session, query, only, since=now - TEMPERATURE_WINDOW
    ):
        cfg = cfg or ResolverSettings()
        if kind.rsplit("-", 1)[-1].rsplit("/", 1)[-1].removeprefix("gs1:") != "Temperature":
            continue
        if value is None or uom not in (None, "CEL"):
            continue
        why = excursion(value, cfg.cold_chain_min_c, cfg.cold_chain_max_c)
        if why is not None:
            yield Alert(Kind.TEMPERATURE_EXCURSION, author, event_id or "", why, utc(at))


def _clones(session: Session, only: Parties, merchants: dict[str, str]) -> Iterable[Alert]:
    found = suspects(session)
    if not found:
        return
    products = select(Product.gtin, Product.producer).where(_in(Product.producer, only is not None))
    producers = {gtin: producer for gtin, producer in _rows(session, products, only)}
    for s in found:
        # code_text is the merchant id, or the GS1 element string "(01)<GTIN>(10|21)…"
        if s.code_text.startswith("(01)"):
            party = producers.get(s.code_text[4:18])
        else:
            party = merchants.get(s.code_text)
        yield Alert(Kind.CLONE_SUSPECT, party, s.code_text, s.reason or "", s.flagged_at)


def _merchant_ids(session: Session, only: Parties) -> dict[str, str]:
    """Party id by party id and by 统一社会信用代码 (a merchant code may name either)."""
    out: dict[str, str] = {}
    for pid, code in _rows(session, _merchants(only is not None), only):
        out[pid] = pid
        if code:
            out[code] = pid
    return out


@cache
def _merchants(scoped: bool) -> Any:
    return select(Party.party_id, Party.credit_code).where(_in(Party.party_id, scoped))


@cache
def _open_complaints(scoped: bool) -> Any:
    c = Complaint
    query = select(c.tracking_number, c.merchant_id, c.received_at, c.responded_at).where(
        c.feedback_at.is_(None)
    )
    if scoped:  # a complaint names its merchant by party id or by credit code
        query = query.where(c.merchant_id.in_(bindparam("merchants", expanding=True)))
    return query


def _complaints(
    session: Session, now: datetime, clocks: Clocks, only: Parties, merchants: dict[str, str]
) -> Iterable[Alert]:
    query = _open_complaints(only is not None)
    params = {} if only is None else {"merchants": list(merchants)}
    for number, merchant, received_at, responded_at in _rows(session, query, None, **params):
        received = utc(received_at)
        assert received is not None
        d = deadlines(
            received,
            utc(responded_at),
            None,
            now,
            response=clocks.response,
            feedback=clocks.feedback,
        )
        if d.response_overdue and responded_at is None:
            stage, due = "response", d.response_due
        elif d.feedback_overdue:
            stage, due = "feedback", d.feedback_due
        else:
            continue
        yield Alert(
            Kind.COMPLAINT_OVERDUE,
            merchants.get(merchant),
            number,
            f"{stage} was due at {due.isoformat(timespec='minutes')}",
            due,
        )


def inspection_alerts(session: Session, today: date, only: Parties) -> list[Alert]:
    """The schedule's due and overdue visits of ``today`` and the visits the merchant has not
    signed: a function of the log (grades, visits and acknowledgements are its projections)
    and the day only, so a caller may keep it while neither changed."""
    out = []
    for item in schedule(session, today, party_ids=only):
        if item.status == DueStatus.OVERDUE:
            kind, detail = Kind.INSPECTION_OVERDUE, f"{item.days_overdue} days overdue"
        elif item.status == DueStatus.DUE:
            kind, detail = Kind.INSPECTION_DUE, f"due on {item.due_on.isoformat()}"
        else:
            continue
        if item.reinspection:
            detail += " (re-inspection of a failed visit)"
        out.append(Alert(kind, item.party_id, item.party_id, detail, item.due_on))
    for visit in unacknowledged(session, party_ids=only):
        out.append(
            Alert(
                Kind.INSPECTION_UNACKNOWLEDGED,
                visit.party_id,
                str(visit.entry_index),
                f"visit of {visit.inspected_on.isoformat()} by {visit.inspector} not signed by "
                "the merchant",
                visit.inspected_on,
            )
        )
    return out


def _recalls(session: Session, now: datetime, settings: Settings, only: Parties) -> Iterable[Alert]:
    cases = list_cases(  # the cases naming these businesses only (their steps are the alerts)
        session, now, calendar(settings), open_only=True, limit=1000, party_ids=only
    )
    for case in cases:
        for p in case.parties:
            if p.start_overdue or p.done_overdue:
                step = "start" if p.start_overdue else "completion"
                due = case.start_due if p.start_overdue else case.done_due
                yield Alert(
                    Kind.RECALL_STEP_OVERDUE,
                    p.party_id,
                    case.id,
                    f"recall {step} was due at {due.isoformat(timespec='minutes')}",
                    due,
                )


@dataclass
class _Call:
    """One call's reads: what every source is read for, and the merchants map (clone
    suspects and complaints name a merchant by party id or by credit code), read once and
    only if such a source is read."""

    session: Session
    now: datetime
    settings: Settings
    only: Parties
    inspections: InspectionAlerts

    @cached_property
    def merchants(self) -> dict[str, str]:
        return _merchant_ids(self.session, self.only)


Source = Callable[[_Call], Iterable[Alert | None]]
RANK = {k: i for i, k in enumerate(Kind)}
"""The list's order of kinds (the order :class:`Kind` names them)."""

SOURCES: tuple[tuple[tuple[Kind, ...], Source], ...] = (
    (
        (
            Kind.LICENCE_EXPIRING,
            Kind.LICENCE_EXPIRED,
            Kind.CERTIFICATE_EXPIRING,
            Kind.CERTIFICATE_EXPIRED,
        ),
        lambda c: _licences(c.session, c.now, c.only),
    ),
    ((Kind.TEMPERATURE_EXCURSION,), lambda c: _temperatures(c.session, c.now, c.only)),
    ((Kind.CLONE_SUSPECT,), lambda c: _clones(c.session, c.only, c.merchants)),
    (
        (Kind.COMPLAINT_OVERDUE,),
        lambda c: _complaints(c.session, c.now, Clocks.of(c.settings), c.only, c.merchants),
    ),
    (
        (Kind.INSPECTION_DUE, Kind.INSPECTION_OVERDUE, Kind.INSPECTION_UNACKNOWLEDGED),
        lambda c: c.inspections(c.session, local_day(c.now), c.only),
    ),
    ((Kind.RECALL_STEP_OVERDUE,), lambda c: _recalls(c.session, c.now, c.settings, c.only)),
)
"""Every source with the kinds it gives, in the order of the first kind each gives."""


def order_key(a: Alert) -> tuple[int, str, str, str, str]:
    """The list's order: kind, business, subject, then detail and since (so that two alerts
    about one subject, two readings of one event say, keep one order from call to call)."""
    since = "" if a.since is None else a.since.isoformat()
    return (RANK[a.kind], a.party_id or "", a.subject, a.detail, since)


def alerts(
    session: Session,
    settings: Settings,
    now: datetime,
    party_ids: Iterable[str] | None = None,
    inspections: InspectionAlerts = inspection_alerts,
    *,
    kinds: Collection[Kind] | None = None,
    from_rank: int = 0,
    enough: Callable[[list[Alert]], bool] | None = None,
) -> list[Alert]:
    """Every alert at ``now``, in :func:`order_key` order; ``party_ids``: only those
    businesses' (each source is queried for them only, so a grid's alerts cost a grid's
    rows, not the district's). ``inspections``: where the inspection alerts come from
    (:func:`inspection_alerts`, or a kept copy of it).

    For one page of the list: ``kinds`` and ``from_rank`` (the rank of the previous page's
    last kind) leave out the sources that give none of the kinds wanted or only kinds
    before it, and ``enough`` (given the alerts of every kind no source still to read can
    give) stops reading sources once it says the page is full. Sources are read in the
    order of the first kind each gives, so those alerts are final when it is asked."""
    only = None if party_ids is None else sorted(set(party_ids))
    kept = None if only is None else set(only)
    wanted = None if kinds is None else set(kinds)
    call = _Call(session, now, settings, only, inspections)
    found: list[Alert] = []
    for gives, read in SOURCES:
        if wanted is not None and wanted.isdisjoint(gives):
            continue
        if max(RANK[k] for k in gives) < from_rank:
            continue
        first = min(RANK[k] for k in gives)
        if enough is not None and enough([a for a in found if RANK[a.kind] < first]):
            break
        for a in read(call):
            # a source may name no business (an unknown merchant, a GTIN)
            if a is not None and (kept is None or a.party_id in kept):
                found.append(a)
    return sorted(found, key=order_key)

"""Regrading on write: one hook on the projection tables grades read, batched per write.

Every input of a grade is a row some projector inserts or updates (a licence, a health
certificate, an inspection, a test report, a complaint finding, a penalty, an EPCIS event,
a recalled lot). SQLAlchemy mapper events note, per session, which parties' rows moved (and
which lots were recalled or reported on, whose handlers' grades move too); when that session
commits, the parties join one pending set. :func:`foodtrace.record.service.submit` calls
:func:`after_write` once per accepted group, which recomputes all pending parties in one
:func:`foodtrace.grading.flows.recompute`: a capture of 10,000 events is one group, so one
recomputation, not 10,000. With ``grade_recompute_debounce_s`` > 0 the recomputation waits
that long to gather several writes' parties.

Off unless ``FOODTRACE_GRADE_RECOMPUTE_ON_WRITE=true`` (see README): on, every write that
touches a business adds its ``grade.compute`` entry to the log when its grade moved.
Grade entries touch none of these tables, so a recomputation does not trigger itself.
Under a sequencer (several workers), projections run in the sequencer's process and its
writes are not seen here; the periodic :func:`foodtrace.grading.flows.drain` covers them.

Known gaps: a party is noted when its group's savepoint commits, a moment before the writer's
batch commits, so a regrade that another request's write sets off in between may read the
state just before (the drain corrects it). A process that projects but never submits (the
sequencer) keeps its notes, unused; they are bounded by the number of parties and lots.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select, tuple_
from sqlalchemy.orm import Session, object_session

from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc
from foodtrace.grading import flows, inputs
from foodtrace.grading.models import ComplaintFinding, Penalty
from foodtrace.health.models import HealthCertificate
from foodtrace.inspection.models import Inspection
from foodtrace.party.models import Licence
from foodtrace.recall.models import RecallParty
from foodtrace.record.service import on_written
from foodtrace.report.models import Report
from foodtrace.store.log import MerkleLog

log = logging.getLogger(__name__)
SessionFactory = Callable[[], Session]
RECALLED = "recalled"

PARTY_COLUMN: dict[type[Any], str] = {
    Licence: "holder",
    HealthCertificate: "employer",
    Inspection: "party_id",
    ComplaintFinding: "party_id",
    Penalty: "party_id",
    EpcisEvent: "author",
    RecallParty: "party_id",
}
_INFO = "grading.dirty"

_lock = threading.Lock()
_pending_parties: set[str] = set()
_pending_lots: set[tuple[str, str]] = set()
_timer: threading.Timer | None = None
_busy = threading.local()


def _dirty(target: Any) -> dict[str, set[Any]] | None:
    session = object_session(target)
    if session is None:
        return None
    info: dict[str, set[Any]] = session.info.setdefault(
        _INFO, {"parties": set(), "lots": set(), "recalled": set()}
    )
    return info


def _on_party_row(_mapper: Any, _connection: Any, target: Any) -> None:
    dirty = _dirty(target)
    if dirty is None:
        return
    party = getattr(target, PARTY_COLUMN[type(target)])
    if party:
        dirty["parties"].add(party)
    if isinstance(target, EpcisEvent) and target.disposition == RECALLED:
        dirty["recalled"].add(target.id)


def _on_report(_mapper: Any, _connection: Any, target: Report) -> None:
    dirty = _dirty(target)
    if dirty is None:
        return
    if target.subject_party:
        dirty["parties"].add(target.subject_party)
    if target.subject_gtin and target.subject_lot:
        dirty["lots"].add((target.subject_gtin, target.subject_lot))


def _on_epc(_mapper: Any, _connection: Any, target: EpcisEventEpc) -> None:
    dirty = _dirty(target)
    if dirty is not None and target.event_pk in dirty["recalled"] and target.gtin and target.lot:
        dirty["lots"].add((target.gtin, target.lot))


def _committed(session: Session) -> None:
    dirty = session.info.pop(_INFO, None)
    if dirty:
        with _lock:
            _pending_parties.update(dirty["parties"])
            _pending_lots.update(dirty["lots"])


def _rolled_back(session: Session) -> None:
    session.info.pop(_INFO, None)


for _model in PARTY_COLUMN:
    event.listen(_model, "after_insert", _on_party_row)
    event.listen(_model, "after_update", _on_party_row)
event.listen(Report, "after_insert", _on_report)
event.listen(EpcisEventEpc, "after_insert", _on_epc)
event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_soft_rollback", lambda s, _tx: _rolled_back(s))


def pending() -> set[str]:
    with _lock:
        return set(_pending_parties)


def _take() -> tuple[set[str], set[tuple[str, str]]]:
    with _lock:
        parties, lots = set(_pending_parties), set(_pending_lots)
        _pending_parties.clear()
        _pending_lots.clear()
    return parties, lots


def _handlers(session: Session, lots: set[tuple[str, str]]) -> set[str]:
    """Parties that recorded an event about any of ``lots``."""
    if not lots:
        return set()
    return set(
        session.scalars(
            select(EpcisEvent.author)
            .join(EpcisEventEpc, EpcisEventEpc.event_pk == EpcisEvent.id)
            .where(tuple_(EpcisEventEpc.gtin, EpcisEventEpc.lot).in_(sorted(lots)))
            .distinct()
        )
    )


def flush(merkle: MerkleLog, session_factory: SessionFactory) -> int:
    """Recompute every pending business now; the number of grade entries written."""
    parties, lots = _take()
    if not parties and not lots:
        return 0
    _busy.active = True
    try:
        with session_factory() as session:
            parties |= _handlers(session, lots)
            businesses = inputs.businesses(session, only=parties)
        if not businesses:
            return 0
        out = flows.recompute(merkle, session_factory, merkle.settings, only=businesses)
        return out.written
    finally:
        _busy.active = False


def after_write(merkle: MerkleLog, session_factory: SessionFactory) -> None:
    """The write path's hook: regrade what the accepted group touched (or discard the
    notes when regrading on write is off)."""
    global _timer
    settings = merkle.settings
    if getattr(_busy, "active", False):
        return
    if not settings.grade_recompute_on_write:
        _take()
        return
    delay = settings.grade_recompute_debounce_s
    if delay <= 0:
        _safe_flush(merkle, session_factory)
        return
    with _lock:
        if _timer is None:
            _timer = threading.Timer(delay, _timed_flush, (merkle, session_factory))
            _timer.daemon = True
            _timer.start()


def _timed_flush(merkle: MerkleLog, session_factory: SessionFactory) -> None:
    global _timer
    with _lock:
        _timer = None
    _safe_flush(merkle, session_factory)


def _safe_flush(merkle: MerkleLog, session_factory: SessionFactory) -> None:
    """A failed regrade must not fail the write that is already logged: it is logged, and
    the next write or the periodic drain regrades the party."""
    try:
        flush(merkle, session_factory)
    except Exception:
        log.exception("regrading after a write failed; the next drain will retry")


on_written(after_write)

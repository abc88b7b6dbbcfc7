"""Regrading on write: one hook on the projection tables grades read, batched per write.

Every input of a grade is a row some projector inserts or updates (a licence, a health
certificate, an inspection, a test report, a complaint finding, a penalty, an EPCIS event,
a recalled lot). SQLAlchemy mapper events note, per session, which parties' rows moved (and
which lots were recalled or reported on, whose handlers' grades move too); when that session
commits, the parties join the pending set of its database. :func:`foodtrace.record.service.submit`
calls :func:`after_write` once per accepted group, which recomputes that database's pending
parties in one :func:`foodtrace.grading.flows.recompute`: a capture of 10,000 events is one
group, so one recomputation, not 10,000. With ``grade_recompute_debounce_s`` > 0 the
recomputation waits that long to gather several writes' parties.

Where it runs: ``submit`` calls it on the thread that wrote, after the group committed. Every
route that writes is a plain ``def`` (FastAPI runs it in its thread pool) or hands the write
to that pool (``run_in_threadpool``: the EPCIS capture, the workbench forms), so the regrade
runs there and the response waits for it; never on the event loop (if a caller ever writes
from a coroutine, the regrade is handed to a thread of its own). Its cost follows the parties
the write touched: each of its reads finds their rows by an index
(``tests/grading/test_inputs.py`` checks the plans), about a dozen queries and, when a grade
moved, one more group of ``grade.compute`` entries. One regrade of a database runs at a
time; a write that comes while one runs waits for it, then regrades what is still pending.

On by default (``FOODTRACE_GRADE_RECOMPUTE_ON_WRITE``, see README): every write that touches a
business adds its ``grade.compute`` entry to the log when its grade moved. Grade entries touch
none of these tables, so a recomputation does not trigger itself. A regrade that fails never
fails the write (already logged): the error is logged and its parties go back to the pending
set, retried by the next write (to the same database) or by ``foodtrace grades recompute``.
Under a sequencer (several workers), projections run in the sequencer's process and its
writes are not seen here; ``foodtrace grades recompute`` (:func:`foodtrace.grading.flows.drain`,
run periodically) covers them.

Known gaps: a party is noted when its group's savepoint commits, a moment before the writer's
batch commits, so a regrade that another request's write sets off in between may read the
state just before (the drain corrects it). A process that projects but never submits (the
sequencer) keeps its notes, unused; they are bounded by the number of parties and lots.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import URL, Engine, event, select, tuple_
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


@dataclass
class _Pending:
    """What committed writes to one database touched and no regrade has taken yet."""

    parties: set[str] = field(default_factory=set)
    lots: set[tuple[str, str]] = field(default_factory=set)
    timer: threading.Timer | None = None
    regrading: threading.Lock = field(default_factory=threading.Lock)
    """Held by the one regrade of this database at a time: two at once could log a grade
    read before the other's write after the other's, leaving a stale grade newest."""


_pending: dict[URL, _Pending] = defaultdict(_Pending)
"""By database: several logs in one process (tests, the demo's seeding) keep theirs apart."""
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
    if dirty and (dirty["parties"] or dirty["lots"]):
        url = session.get_bind().engine.url
        with _lock:
            _pending[url].parties.update(dirty["parties"])
            _pending[url].lots.update(dirty["lots"])


def _rolled_back(session: Session) -> None:
    session.info.pop(_INFO, None)


for _model in PARTY_COLUMN:
    event.listen(_model, "after_insert", _on_party_row)
    event.listen(_model, "after_update", _on_party_row)
event.listen(Report, "after_insert", _on_report)
event.listen(EpcisEventEpc, "after_insert", _on_epc)
event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_soft_rollback", lambda s, _tx: _rolled_back(s))


def pending(engine: Engine) -> set[str]:
    """The parties writes to ``engine``'s database touched that wait for a regrade."""
    with _lock:
        return set(_pending[engine.url].parties)


def _take(engine: Engine) -> tuple[set[str], set[tuple[str, str]]]:
    with _lock:
        notes = _pending[engine.url]
        parties, lots = set(notes.parties), set(notes.lots)
        notes.parties.clear()
        notes.lots.clear()
    return parties, lots


def _put_back(engine: Engine, parties: set[str], lots: set[tuple[str, str]]) -> None:
    with _lock:
        _pending[engine.url].parties.update(parties)
        _pending[engine.url].lots.update(lots)


def handlers(session: Session, lots: set[tuple[str, str]]) -> set[str]:
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
    """Recompute every pending business of ``merkle``'s database now; the number of grade
    entries written. On an error the parties taken go back to the pending set."""
    with _lock:
        regrading = _pending[merkle.engine.url].regrading
    with regrading:  # a write that waits here finds its parties taken, or takes them after
        parties, lots = _take(merkle.engine)
        if not parties and not lots:
            return 0
        _busy.active = True
        try:
            with session_factory() as session:
                businesses = inputs.businesses(session, only=parties | handlers(session, lots))
            if not businesses:
                return 0
            out = flows.recompute(merkle, session_factory, merkle.settings, only=businesses)
            return out.written
        except BaseException:
            _put_back(merkle.engine, parties, lots)
            raise
        finally:
            _busy.active = False


def after_write(merkle: MerkleLog, session_factory: SessionFactory) -> None:
    """The write path's hook: regrade what the accepted group touched (or discard the
    notes when regrading on write is off)."""
    settings = merkle.settings
    if getattr(_busy, "active", False):
        return
    if not settings.grade_recompute_on_write:
        _take(merkle.engine)
        return
    delay = settings.grade_recompute_debounce_s
    if delay <= 0 and not _on_event_loop():
        _safe_flush(merkle, session_factory)
        return
    with _lock:
        notes = _pending[merkle.engine.url]
        if notes.timer is None:
            notes.timer = threading.Timer(max(delay, 0), _timed_flush, (merkle, session_factory))
            notes.timer.daemon = True
            notes.timer.start()


def _on_event_loop() -> bool:
    """Whether this thread runs an event loop (where no database work may block it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _timed_flush(merkle: MerkleLog, session_factory: SessionFactory) -> None:
    with _lock:
        _pending[merkle.engine.url].timer = None
    _safe_flush(merkle, session_factory)


def _safe_flush(merkle: MerkleLog, session_factory: SessionFactory) -> None:
    """A failed regrade must not fail the write that is already logged: it is logged, and
    the next write or ``foodtrace grades recompute`` regrades the parties."""
    try:
        flush(merkle, session_factory)
    except Exception:
        log.exception("regrading after a write failed; the next write or drain will retry")


on_written(after_write)

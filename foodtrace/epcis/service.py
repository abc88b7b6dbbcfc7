"""Capturing EPCIS documents: each event becomes one signed ``epcis.event`` entry, a
document one atomic group, and the projector below fills the index tables.

The entry body is ``{"event": …, "hash_id": "ni:///sha-256;…?ver=CBV2.0"}``. The event is
kept as its author wrote it, plus what a repository adds on capture: ``recordTime``, the
document's ``@context`` (so namespaced extension fields keep their meaning outside the
document) and, when the author gave none, ``eventID`` set to the hash id. The hash is
checked against the event when the entry is written, so a client-signed entry cannot claim
another event's id.

Whether the caller's role may write, whether the author is the caller, and whether the
signature verifies are checked by the one write path (:mod:`foodtrace.record.service`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from foodtrace.api.limits import give_way
from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.auth.models import Principal, Role
from foodtrace.config import MAX_ENTRY_BYTES
from foodtrace.epcis.index.project import index_event
from foodtrace.epcis.models import (
    CaptureJob,
    EpcisEvent,
)
from foodtrace.epcis.rows import detail_rows, event_row
from foodtrace.masterdata import service as masterdata
from foodtrace.provenance import projection as provenance
from foodtrace.record import registry
from foodtrace.record.service import submit
from foodtrace.store.db import begin_write
from foodtrace.store.log import MerkleLog
from foodtrace.trace.entry import Entry, now_rfc3339
from foodtrace.trace.epcis import events, hashing, validate

ENTRY_TYPE: Final = "epcis.event"
WRITER_ROLES: Final = frozenset({Role.PRODUCER, Role.INSPECTOR, Role.REGULATOR})
"""Supply-chain parties record their own events; inspectors record inspections and
sampling, regulators recalls (disposition ``recalled``). Labs write test reports instead."""
HASH_ID_PATTERN: Final = r"^ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0$"
ENTRY_OVERHEAD_BYTES: Final = 1024  # envelope, hash id and signature around the event

if TYPE_CHECKING:
    from foodtrace.epcis.preparation import PreparedCapture

SessionFactory = Callable[[], Session]


class EventBody(BaseModel):
    """The body of an ``epcis.event`` entry."""

    model_config = ConfigDict(extra="forbid")

    event: dict[str, Any] = Field(description="The EPCIS 2.0 event as stored")
    hash_id: str = Field(pattern=HASH_ID_PATTERN, description="Its CBV 2.0 event hash id")

    @model_validator(mode="after")
    def _valid_and_hashed(self) -> EventBody:
        found = validate.problems(single_event_document(self.event))
        if found:
            raise ValueError("event is not valid EPCIS 2.0: " + "; ".join(map(str, found[:5])))
        computed = hashing.event_hash_id(self.event)
        if computed != self.hash_id:
            raise ValueError(f"hash_id is not the event's CBV 2.0 hash id, expected {computed}")
        return self


def single_event_document(event: Mapping[str, Any]) -> dict[str, Any]:
    """A minimal EPCISDocument around one stored event, to validate it on its own."""
    return {
        "@context": event.get("@context", validate.CONTEXT_URLS[0]),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": event.get("recordTime") or event.get("eventTime"),
        "epcisBody": {"eventList": [dict(event)]},
    }


@dataclass(frozen=True)
class PreparedEvent:
    """An event of a document, ready to be signed: where it was, its id, what is stored."""

    pointer: str
    hash_id: str
    declares_error: bool
    stored: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.stored["eventID"])

    def body(self) -> dict[str, Any]:
        return {"event": self.stored, "hash_id": self.hash_id}


def prepare(document: Mapping[str, Any], record_time: str) -> list[PreparedEvent]:
    """The events of a valid document as they will be stored (pure)."""
    base = validate.event_list_pointer(document)
    context = document.get("@context")
    out = []
    for i, event in enumerate(events.event_list(document)):
        hash_id = hashing.event_hash_id(event)
        stored: dict[str, Any] = {}
        if context is not None and "@context" not in event:
            stored["@context"] = context
        stored.update(event)
        stored.setdefault("eventID", hash_id)
        stored["recordTime"] = record_time
        out.append(PreparedEvent(f"{base}/{i}", hash_id, "errorDeclaration" in event, stored))
    return out


def document_problems(document: object) -> list[FieldProblem]:
    """Every reason to refuse a document before anything is signed: schema and CBV
    problems, no events, the same event twice, an event too large for one entry."""
    found = [FieldProblem(p.pointer or "/", p.message) for p in validate.problems(document)]
    if found or not isinstance(document, dict):
        return found
    found += masterdata.header_problems(document)
    prepared = prepare(document, now_rfc3339())
    if not prepared:
        where = validate.event_list_pointer(document)
        return [FieldProblem(where, "expected at least one event to capture")]
    first: dict[tuple[str, bool], str] = {}
    for p in prepared:
        key = (p.hash_id, p.declares_error)
        if key in first:
            found.append(
                FieldProblem(p.pointer, f"is the same event as {first[key]} (hash id {p.hash_id})")
            )
        first.setdefault(key, p.pointer)
        size = len(json.dumps(p.stored, ensure_ascii=False).encode()) + ENTRY_OVERHEAD_BYTES
        if size > MAX_ENTRY_BYTES:
            found.append(
                FieldProblem(
                    p.pointer,
                    f"is about {size} bytes; one event may be at most "
                    f"{MAX_ENTRY_BYTES - ENTRY_OVERHEAD_BYTES} bytes",
                )
            )
    return found


def already_stored(
    session: Session, pointers: Sequence[str], keys: Sequence[tuple[str, bool]]
) -> list[FieldProblem]:
    """Events (``(hash id, declares error)`` at each pointer) the store already holds, each
    named with its entry index."""
    ids = {h for h, _ in keys}
    rows = session.execute(
        select(EpcisEvent.hash_id, EpcisEvent.declares_error, EpcisEvent.entry_index).where(
            EpcisEvent.hash_id.in_(ids)
        )
    ).all()
    stored = {(h, bool(d)): i for h, d, i in rows}
    return [
        FieldProblem(at, duplicate_detail(h, d, index))
        for at, (h, d) in zip(pointers, keys, strict=False)
        if (index := stored.get((h, d))) is not None
    ]


def duplicate_detail(hash_id: str, declares_error: bool, index: int) -> str:
    what = "an error declaration of event" if declares_error else "event"
    return f"{what} {hash_id} is already stored (entry {index}): duplicates are refused"


# --- capture jobs --------------------------------------------------------------------------


def job_json(job: CaptureJob) -> dict[str, Any]:
    """A capture job as the API shows it."""
    return {
        "captureID": job.id,
        "status": job.status,
        "running": job.status == "accepted",
        "success": job.status == "succeeded",
        "party": job.party_id,
        "documentID": job.document_id,
        "eventCount": job.event_count,
        "entryIndices": json.loads(job.entry_indices),
        "eventIDs": json.loads(job.event_ids),
        "errors": json.loads(job.errors),
        "createdAt": _iso(job.created_at),
        "finishedAt": _iso(job.finished_at) if job.finished_at else None,
    }


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def get_job(session: Session, capture_id: str) -> CaptureJob | None:
    return session.get(CaptureJob, capture_id)


def _finish(
    sessions: SessionFactory,
    job_id: str,
    status: str,
    *,
    indices: Sequence[int] = (),
    errors: Sequence[FieldProblem] = (),
    reason: str | None = None,
) -> CaptureJob:
    with sessions() as session, session.begin():
        begin_write(session)  # read-then-write: take the SQLite write lock first
        job = session.get(CaptureJob, job_id)
        assert job is not None
        job.status = status
        job.entry_indices = json.dumps(list(indices))
        listed = [{"pointer": e.pointer, "detail": e.detail} for e in errors]
        if reason and not listed:
            listed = [{"pointer": "/", "detail": reason}]
        job.errors = json.dumps(listed, ensure_ascii=False)
        job.finished_at = datetime.now(UTC)
        session.flush()
        session.expunge(job)
        return job


def capture(
    log: MerkleLog,
    sessions: SessionFactory,
    principal: Principal,
    prepared: PreparedCapture,
    *,
    key_problem: Problem | None = None,
) -> CaptureJob:
    """Capture a document :func:`foodtrace.epcis.preparation.prepare_capture` prepared
    (and signed with the caller's server-held key, unless ``key_problem`` says why there is
    none): appended as one atomic group. The returned job says what was stored or exactly
    why nothing was."""
    job_id = str(uuid.uuid4())
    with sessions() as session, session.begin():
        begin_write(session)
        session.add(
            CaptureJob(
                id=job_id,
                party_id=principal.party_id,
                status="accepted",
                document_id=prepared.document_id,
                event_count=prepared.event_count,
                entry_indices="[]",
                event_ids=json.dumps(prepared.event_ids),
                errors="[]",
                created_at=datetime.now(UTC),
            )
        )
    with sessions() as session:
        duplicates = already_stored(session, prepared.pointers, prepared.event_keys)
    if duplicates:
        return _finish(sessions, job_id, "failed", errors=duplicates)
    if key_problem is not None:  # no server-held key that may sign now
        reason = FieldProblem("/", key_problem.detail or key_problem.title)
        return _finish(sessions, job_id, "failed", errors=[reason])
    entries = prepared.entries()
    return _append(
        log,
        sessions,
        principal,
        job_id,
        prepared.pointers,
        prepared.event_count,
        entries,
        bodies_checked=prepared.bodies_checked,
    )


def _append(
    log: MerkleLog,
    sessions: SessionFactory,
    principal: Principal,
    job_id: str,
    pointers: Sequence[str],
    events_count: int,
    entries: Sequence[Entry],
    *,
    bodies_checked: bool = False,
) -> CaptureJob:
    """Append the group; the job lists the events' entry indices (master data entries of
    the header follow them in the same group)."""
    try:
        refs = submit(
            log,
            sessions,
            principal,
            entries,
            where=pointers.__getitem__,
            bodies_checked=bodies_checked,
        )
    except Problem as exc:
        errors = [FieldProblem(_in_document(e.pointer, pointers), e.detail) for e in exc.errors]
        if exc.status == 403:  # custody: refused outright, leaving no trace, not a failed job
            with sessions() as session, session.begin():
                begin_write(session)
                session.execute(delete(CaptureJob).where(CaptureJob.id == job_id))
            raise Problem(
                403,
                "Not allowed to write about these objects",
                f"Nothing was captured: {exc.detail}",
                problem_type("custody"),
                errors,
            ) from exc
        return _finish(sessions, job_id, "failed", errors=errors, reason=exc.detail)
    indices = [r.index for r in refs[:events_count]]
    return _finish(sessions, job_id, "succeeded", indices=indices)


def _in_document(pointer: str, events: Sequence[str]) -> str:
    """A write-path pointer into an event's entry body (``…/2/body/event/epcList/0``) as
    the pointer into the captured document (``…/2/epcList/0``)."""
    for at in events:
        if pointer == f"{at}/body/event" or pointer.startswith(f"{at}/body/event/"):
            return at + pointer[len(f"{at}/body/event") :]
    return pointer


def refusal(found: Sequence[FieldProblem]) -> Problem:
    """The problem+json answer for a document refused before capture."""
    n = len(found)
    return Problem(
        422,
        "Invalid EPCIS document",
        f"Nothing was captured: {n} problem{'s' if n != 1 else ''} in the document",
        problem_type("invalid-epcis-document"),
        [FieldProblem("/body" + (p.pointer if p.pointer != "/" else ""), p.detail) for p in found],
    )


# --- projection ----------------------------------------------------------------------------


def project_event(session: Session, index: int, entry: Entry) -> None:
    """Index one ``epcis.event`` entry; a second copy of a stored event is a conflict.

    A document's events are projected one after another in the log's writer, in this
    interpreter: after each, the writer gives way to pages being answered meanwhile
    (:func:`foodtrace.api.limits.give_way`)."""
    started = time.perf_counter()
    try:
        _project_event(session, index, entry)
    finally:
        give_way(time.perf_counter() - started)


def _project_event(session: Session, index: int, entry: Entry) -> None:
    event = dict(entry.body["event"])
    hash_id = str(entry.body["hash_id"])
    declares_error = "errorDeclaration" in event
    existing = session.scalar(
        select(EpcisEvent.entry_index).where(
            EpcisEvent.hash_id == hash_id, EpcisEvent.declares_error == declares_error
        )
    )
    if existing is not None:
        raise registry.conflict("hash_id", duplicate_detail(hash_id, declares_error, existing))
    facts = events.extract(event)
    plan = provenance.check_custody(session, index, entry, facts)
    row = event_row(entry, index, event, facts)
    session.add(row)
    session.flush()
    session.add_all(detail_rows(row.id, facts))
    index_event(session, row.id, event)
    provenance.project_lineage(session, index, entry, plan)


registry.register_type(ENTRY_TYPE, roles=WRITER_ROLES, project=project_event, body=EventBody)

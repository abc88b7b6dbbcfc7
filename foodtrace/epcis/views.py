"""EPCIS 2.0 REST binding: capture, capture jobs, event queries, a lot's events.

Capture runs synchronously: the 202 answer comes once the document's events are committed
to the log (or refused), and its job already says which. EPCIS clients that poll
``Location`` see the final status on the first poll.
"""

from __future__ import annotations

from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.limits import busy_response
from foodtrace.api.paging import INT, TIME, PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.epcis import documents, limits, pool, query, responses, service
from foodtrace.epcis.models import CaptureJob
from foodtrace.epcis.preparation import JSON_TYPES, Refusal
from foodtrace.epcis.subscription import views as subscription_views
from foodtrace.masterdata import service as masterdata
from foodtrace.record.service import custodial_private_key, record_proof


def _header_refusals(
    request: Request, principal: Principal, document: dict[str, Any]
) -> list[FieldProblem]:
    """Master data in the document's header that the caller may not describe."""
    with request.app.state.sessions() as session:
        return masterdata.header_refusals(session, principal.party_id, document)


LD_JSON = "application/ld+json"

_CAPTURE_EXAMPLE = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2025-03-01T08:00:00Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "eventTime": "2025-03-01T07:55:00+08:00",
                "eventTimeZoneOffset": "+08:00",
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "epcList": ["https://id.gs1.org/01/06901234567892/21/1001"],
                "quantityList": [
                    {
                        "epcClass": "https://id.gs1.org/01/06901234567892/10/LOT2025A",
                        "quantity": 120,
                        "uom": "KGM",
                    }
                ],
                "bizLocation": {"id": "https://id.gs1.org/414/6901234000017"},
            }
        ]
    },
}

_JOB_EXAMPLE = {
    "captureID": "7d0e5c1a-2f7b-4c53-9f2e-0b6f4f1c2a11",
    "status": "succeeded",
    "running": False,
    "success": True,
    "party": "farm-001",
    "documentID": None,
    "eventCount": 1,
    "entryIndices": [42],
    "eventIDs": ["ni:///sha-256;…?ver=CBV2.0"],
    "errors": [],
    "createdAt": "2025-03-01T08:00:01.120Z",
    "finishedAt": "2025-03-01T08:00:01.180Z",
}

Writer = Annotated[Principal, Depends(require_roles(*service.WRITER_ROLES))]


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["epcis"])
    gate = limits.capture_gate(settings)

    @r.post(
        "/epcis/capture",
        status_code=202,
        summary="Capture an EPCIS 2.0 document (all its events, or none)",
        description=(
            "Validates the document against the EPCIS 2.0 JSON Schema and the CBV 2.0 "
            "vocabularies (the JSON-LD context is never fetched). A document with any "
            "problem is refused with 422 listing every problem, and nothing is stored; one "
            "with an event about a lot, item or logistic unit the caller neither holds nor "
            "held at the event's time (nor carries in transit) is refused with 403 naming "
            "each such EPC or quantity and who holds it. "
            "Otherwise each event is signed with the caller's server-held key and the "
            "document is appended to the log as one atomic group; the answer is 202 with "
            "the capture job, whose status says what was stored (entry indices) or "
            "exactly why nothing was (duplicate events, keys, authorisation). The work is "
            "done before answering, so the job is already final. Master data in "
            "`epcisHeader.epcisMasterData` is recorded in the same group (403 if it "
            "describes a site or product that is not the sender's). A document with more "
            "events than `FOODTRACE_MAX_EVENTS_PER_DOCUMENT` (default 10,000) is refused "
            "with 413 naming `/epcisBody/eventList` before anything else is checked; while "
            "this worker already has its capture queue full the answer is 503 with "
            "`Retry-After`."
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "object"}, "example": _CAPTURE_EXAMPLE}
                    for t in JSON_TYPES
                },
            }
        },
        responses={
            202: {
                "description": "The capture job (final)",
                "content": {"application/json": {"example": _JOB_EXAMPLE}},
            },
            **problem_responses(400, 401, 403, 413, 415, 422),
            **busy_response(),
        },
    )
    async def capture(request: Request, principal: Writer) -> JSONResponse:
        # Only reading the body happens on the event loop. Parsing, validating and signing
        # run in a capture process, the database work and waiting for the log's commit on a
        # worker thread, one document at a time (a few more wait; past that 503), so pages
        # on this worker go on meanwhile.
        content_type = request.headers.get("content-type", "")
        gate.admit()
        try:
            raw = await request.body()
            job = await run_in_threadpool(
                limits.gated, gate, _capture, request, principal, content_type, raw
            )
        finally:
            gate.leave()
        return JSONResponse(
            service.job_json(job),
            status_code=202,
            headers={"Location": f"/epcis/capture/{job.id}"},
        )

    @r.get(
        "/epcis/capture/{capture_id}",
        summary="A capture job: its status, the entries stored, or why not",
        responses={
            200: {"content": {"application/json": {"example": _JOB_EXAMPLE}}},
            **problem_responses(401, 404),
        },
    )
    def capture_job(
        capture_id: str, session: SessionDep, principal: PrincipalDep
    ) -> dict[str, Any]:
        job = service.get_job(session, capture_id)
        if job is None or (job.party_id != principal.party_id and principal.role != Role.REGULATOR):
            raise Problem(
                404, "Not Found", f"No capture job {capture_id} of party {principal.party_id}."
            )
        return service.job_json(job)

    @r.get(
        "/epcis/events",
        summary="Query events (EPCIS 2.0 SimpleEventQuery), as an EPCISQueryDocument",
        description=(
            "Every SimpleEventQuery parameter of EPCIS 2.0 §8.2.7.1; an unknown parameter "
            "or a bad value is refused with 400 naming it. Filters combine with AND; "
            "alternatives within one filter are given by repeating it or separating values "
            "with `|`. Extension field prefixes may be declared in `GS1-Extensions` "
            "(`example=https://ns.example.com/epcis/`). Results are in eventTime order "
            "unless `orderBy` says otherwise; when more remain, the `Link` header "
            "(rel=next) carries `nextPageToken`, also sent as `GS1-Next-Page-Token`; pages "
            "read the snapshot the first page saw. Public: no token needed."
        ),
        response_class=JSONResponse,
        openapi_extra={"parameters": responses.QUERY_PARAMETERS},
        responses={
            200: {"content": {LD_JSON: {}}},
            **problem_responses(400, 413),
        },
    )
    def query_events(request: Request, session: SessionDep) -> JSONResponse:
        return responses.page_response(
            request, session, responses.request_query(request), "SimpleEventQuery"
        )

    @r.get(
        "/epcis/events/{event_id:path}",
        summary="One event by its CBV 2.0 hash id or its document's eventID, with its proof",
        description=(
            "The id is URL-encoded (`ni%3A%2F%2F%2Fsha-256%3B…%3Fver%3DCBV2.0`). The answer "
            "holds the event as stored, its log entry index, and the entry with an "
            "inclusion proof bundle and signed checkpoint. Public: no token needed."
        ),
        responses=problem_responses(404),
    )
    def get_event(
        request: Request,
        session: SessionDep,
        event_id: Annotated[str, Path(description="URL-encoded event id")],
    ) -> dict[str, Any]:
        row = query.find_event(session, event_id)
        if row is None:
            raise Problem(404, "Not Found", f"No event with id {event_id}.")
        return {
            "eventID": row.event_id,
            "hashID": row.hash_id,
            "entryIndex": row.entry_index,
            "event": documents.stored_event(row),
            "errorDeclarations": query.error_declarations(session, row.hash_id)
            if not row.declares_error
            else [],
            "record": record_proof(request.app.state.log, row.entry_index),
        }

    @r.get(
        "/epcis/lots/{lot}",
        summary="A lot's events as an EPCISDocument",
        description=(
            "Every captured event naming the lot, as an lgtin class "
            "(`urn:epc:class:lgtin:…`) or a Digital Link with `/10/{lot}`, in any role "
            "(so transformation inputs and outputs, shipments and receipts), in eventTime "
            "order. `gtin` narrows to one product when lot codes repeat across products."
        ),
        response_class=JSONResponse,
        responses={
            **paged_responses(404),
            200: {**paged_responses()[200], "content": {LD_JSON: {}}},
        },
    )
    def lot_epcis(
        lot: str,
        session: SessionDep,
        page: PageDep,
        gtin: Annotated[str | None, Query(pattern=r"^\d{8,14}$")] = None,
    ) -> JSONResponse:
        key = page.after_key(TIME, INT)
        after = None if key is None else (key[0], key[1])
        rows = query.lot_events(session, lot, gtin, after=after, limit=page.fetch)
        if not rows and after is None:
            raise Problem(404, "Not Found", f"No EPCIS event names lot {lot}.")
        carrier = Response()  # takes the paging headers
        rows = page.keyed(carrier, rows, lambda row: row.event_time, lambda row: row.id)
        paging = {k: v for k, v in carrier.headers.items() if k in ("link", "next-page-token")}
        return JSONResponse(documents.epcis_document(rows), media_type=LD_JSON, headers=paging)

    r.include_router(subscription_views.router(settings))
    return r


def _capture(request: Request, principal: Principal, content_type: str, raw: bytes) -> CaptureJob:
    """The capture itself (on a worker thread). The document is parsed, refused (too many
    events before anything else, then every problem) or prepared and signed in a capture
    process; this thread checks master data, duplicates and custody and appends."""
    settings = request.app.state.settings
    key, key_problem = _signing_key(request, principal)
    prepared = pool.prepare(
        settings.capture_processes,
        raw,
        content_type,
        settings.max_events_per_document,
        principal.party_id,
        key,
    )
    if isinstance(prepared, Refusal):
        raise prepared.problem()
    forbidden = _header_refusals(request, principal, prepared.header)
    if forbidden:
        raise masterdata.forbidden(forbidden)
    return service.capture(
        request.app.state.log,
        request.app.state.sessions,
        principal,
        prepared,
        key_problem=key_problem,
    )


def _signing_key(request: Request, principal: Principal) -> tuple[bytes | None, Problem | None]:
    """The caller's server-held key as raw bytes for the capture process, or why there is
    none (the capture then fails as a job, once the document proved valid)."""
    with request.app.state.sessions() as session:
        try:
            key = custodial_private_key(
                session, principal.party_id, settings=request.app.state.settings
            )
        except Problem as exc:
            return None, exc
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return raw, None

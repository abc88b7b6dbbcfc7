"""EPCIS 2.0 REST binding: capture, capture jobs, event queries, a lot's events.

Capture runs synchronously: the 202 answer comes once the document's events are committed
to the log (or refused), and its job already says which. EPCIS clients that poll
``Location`` see the final status on the first poll.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import URL

from foodtrace.api.app import SessionDep
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.epcis import query, service
from foodtrace.record.service import record_proof

JSON_TYPES = ("application/json", "application/ld+json")
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

    @r.post(
        "/epcis/capture",
        status_code=202,
        summary="Capture an EPCIS 2.0 document (all its events, or none)",
        description=(
            "Validates the document against the EPCIS 2.0 JSON Schema and the CBV 2.0 "
            "vocabularies (the JSON-LD context is never fetched). A document with any "
            "problem is refused with 422 listing every problem, and nothing is stored. "
            "Otherwise each event is signed with the caller's server-held key and the "
            "document is appended to the log as one atomic group; the answer is 202 with "
            "the capture job, whose status says what was stored (entry indices) or "
            "exactly why nothing was (duplicate events, keys, authorisation). The work is "
            "done before answering, so the job is already final."
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
            **problem_responses(400, 401, 403, 415, 422),
        },
    )
    async def capture(request: Request, principal: Writer) -> JSONResponse:
        document = _json_body(request.headers.get("content-type", ""), await request.body())
        found = service.document_problems(document)
        if found:
            raise service.refusal(found)
        assert isinstance(document, dict)
        job = service.capture(
            request.app.state.log,
            request.app.state.sessions,
            principal,
            document,
            settings=request.app.state.settings,
        )
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
        summary="Query events (EPCIS 2.0 SimpleEventQuery subset), as an EPCISQueryDocument",
        description=(
            "Filters combine with AND; alternatives within one filter are given by "
            "repeating it or separating values with `|`. Results are in eventTime order; "
            "when more remain, the `Link` header (rel=next) carries `nextPageToken`, also "
            "sent as `GS1-Next-Page-Token`. Public: no token needed."
        ),
        response_class=JSONResponse,
        responses={
            200: {"content": {LD_JSON: {}, "application/json": {}}},
            **problem_responses(400, 422),
        },
    )
    def query_events(
        request: Request,
        session: SessionDep,
        event_type: Annotated[
            list[str] | None, Query(alias="eventType", examples=["ObjectEvent"])
        ] = None,
        biz_step: Annotated[
            list[str] | None, Query(alias="EQ_bizStep", examples=["shipping"])
        ] = None,
        disposition: Annotated[
            list[str] | None, Query(alias="EQ_disposition", examples=["in_transit"])
        ] = None,
        biz_location: Annotated[list[str] | None, Query(alias="EQ_bizLocation")] = None,
        match_epc: Annotated[
            list[str] | None,
            Query(alias="MATCH_epc", examples=["urn:epc:id:sgtin:0614141.107346.2017"]),
        ] = None,
        match_any_epc: Annotated[list[str] | None, Query(alias="MATCH_anyEPC")] = None,
        ge_event_time: Annotated[
            str | None, Query(alias="GE_eventTime", examples=["2025-03-01T00:00:00Z"])
        ] = None,
        lt_event_time: Annotated[str | None, Query(alias="LT_eventTime")] = None,
        per_page: Annotated[
            int, Query(alias="perPage", ge=1, le=query.MAX_PER_PAGE)
        ] = query.DEFAULT_PER_PAGE,
        next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
    ) -> JSONResponse:
        try:
            q = query.EventQuery(
                event_types=query.split_values(event_type or []),
                biz_steps=query.split_values(biz_step or []),
                dispositions=query.split_values(disposition or []),
                biz_locations=query.split_values(biz_location or []),
                match_epc=query.split_values(match_epc or []),
                match_any_epc=query.split_values(match_any_epc or []),
                ge_event_time=query.parse_time("GE_eventTime", ge_event_time),
                lt_event_time=query.parse_time("LT_eventTime", lt_event_time),
                per_page=per_page,
            )
            if next_page_token:
                q = replace(q, after=query.decode_token(q, next_page_token))
        except query.QueryError as exc:
            raise _query_problem(exc) from exc
        rows, token = query.run(session, q)
        headers = {}
        if token is not None:
            public = URL(settings.public_base_url)  # never the Host header the client sent
            link = request.url.replace(scheme=public.scheme, netloc=public.netloc)
            link = link.remove_query_params("nextPageToken")
            link = link.include_query_params(nextPageToken=token)
            headers = {"Link": f'<{link}>; rel="next"', "GS1-Next-Page-Token": token}
        return JSONResponse(query.query_document(rows), headers=headers, media_type=LD_JSON)

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
            "event": query.stored_event(row),
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
        responses={200: {"content": {LD_JSON: {}}}, **problem_responses(404)},
    )
    def lot_epcis(
        lot: str,
        session: SessionDep,
        gtin: Annotated[str | None, Query(pattern=r"^\d{8,14}$")] = None,
    ) -> JSONResponse:
        rows = query.lot_events(session, lot, gtin)
        if not rows:
            raise Problem(404, "Not Found", f"No EPCIS event names lot {lot}.")
        return JSONResponse(query.epcis_document(rows), media_type=LD_JSON)

    return r


def _json_body(content_type: str, raw: bytes) -> object:
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"expected {' or '.join(JSON_TYPES)}, got {media or 'no Content-Type'}",
            problem_type("unsupported-media-type"),
            [FieldProblem("/header/content-type", f"expected one of {', '.join(JSON_TYPES)}")],
        )
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            400,
            "Malformed JSON",
            "The request body is not valid JSON.",
            problem_type("malformed-json"),
            [FieldProblem("/body", f"expected valid JSON: {exc}")],
        ) from exc


def _query_problem(exc: query.QueryError) -> Problem:
    n = len(exc.problems)
    return Problem(
        400,
        "Invalid query",
        f"{n} problem{'s' if n != 1 else ''} in the query",
        problem_type("invalid-query"),
        exc.problems,
    )

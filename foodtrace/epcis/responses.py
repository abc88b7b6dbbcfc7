"""The HTTP edge of event queries: reading a request's query parameters, answering a page.

Shared by ``GET /epcis/events`` and ``GET /epcis/queries/{queryName}/events``: every query
parameter reaches the parser (none is dropped by a framework signature), paging follows the
REST binding (``perPage``, ``nextPageToken``, ``Link: <…>; rel="next"``,
``GS1-Next-Page-Token``), and problems become RFC 9457 answers naming the parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import URL

from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.config import EPCIS_DEFAULT_PER_PAGE, EPCIS_MAX_PAGE_BYTES, EPCIS_MAX_PER_PAGE
from foodtrace.epcis import documents, query
from foodtrace.trace.epcis import query_filters as qf
from foodtrace.trace.epcis import query_params as qp

LD_JSON: Final = "application/ld+json"
PAGING: Final = ("perPage", query.TOKEN_PARAM)
EXTENSIONS_HEADER: Final = "GS1-Extensions"


def invalid_query(problems: Iterable[tuple[str, str]]) -> Problem:
    listed = [FieldProblem(f"/query/{name}", detail) for name, detail in problems]
    n = len(listed)
    return Problem(
        400,
        "Invalid query",
        f"{n} problem{'s' if n != 1 else ''} in the query",
        problem_type("invalid-query"),
        listed,
    )


def too_large(exc: query.QueryTooLarge) -> Problem:
    return Problem(
        413,
        "Query too large",
        f"{exc}: narrow the query or raise maxEventCount",
        problem_type("query-too-large"),
        [FieldProblem("/query/maxEventCount", str(exc))],
    )


def parse_pairs(pairs: Iterable[tuple[str, str]], extensions: Mapping[str, str]) -> qf.ParsedQuery:
    try:
        return qp.parse(pairs, extensions)
    except qp.QueryParamError as exc:
        raise invalid_query(exc.problems) from exc


def per_page(request: Request) -> int:
    text = request.query_params.get("perPage")
    if text is None:
        return EPCIS_DEFAULT_PER_PAGE
    if not text.isdigit() or not 1 <= int(text) <= EPCIS_MAX_PER_PAGE:
        raise invalid_query(
            [("perPage", f"expected an integer from 1 to {EPCIS_MAX_PER_PAGE}, got {text!r}")]
        )
    return int(text)


def request_query(request: Request) -> qf.ParsedQuery:
    """The SimpleEventQuery the request's parameters ask for (paging aside)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGING]
    return parse_pairs(pairs, qp.parse_extensions(request.headers.get(EXTENSIONS_HEADER)))


def page_response(
    request: Request, session: Session, parsed: qf.ParsedQuery, query_name: str
) -> JSONResponse:
    """One page of results as an EPCISQueryDocument, with the next page's link."""
    size = per_page(request)
    try:
        rows, token = query.run(
            session,
            parsed,
            size,
            request.query_params.get(query.TOKEN_PARAM),
            max_bytes=EPCIS_MAX_PAGE_BYTES,
        )
    except query.QueryError as exc:
        raise invalid_query(exc.problems) from exc
    except query.QueryTooLarge as exc:
        raise too_large(exc) from exc
    headers = {}
    if token is not None:
        public = URL(request.app.state.settings.public_base_url)  # never the client's Host
        link = request.url.replace(scheme=public.scheme, netloc=public.netloc)
        link = link.remove_query_params(query.TOKEN_PARAM)
        link = link.include_query_params(**{query.TOKEN_PARAM: token})
        headers = {"Link": f'<{link}>; rel="next"', "GS1-Next-Page-Token": token}
    document = documents.query_document(rows, query_name)
    return JSONResponse(document, headers=headers, media_type=LD_JSON)


QUERY_PARAMETERS: Final[list[dict[str, Any]]] = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": text,
    }
    for name, text in (
        (
            "eventType",
            "ObjectEvent|AggregationEvent|TransactionEvent|TransformationEvent|AssociationEvent",
        ),
        (
            "GE_eventTime",
            "eventTime at or after (RFC 3339 with zone); also LT_eventTime, GE_/LT_recordTime",
        ),
        (
            "EQ_bizStep",
            "CBV business step (any spelling); also EQ_action, EQ_disposition, "
            "EQ_readPoint, WD_readPoint, EQ_bizLocation, WD_bizLocation, "
            "EQ_transformationID, EQ_eventID",
        ),
        (
            "MATCH_anyEPCClass",
            "class id or idpat pattern; also MATCH_epc, MATCH_parentID, MATCH_inputEPC, "
            "MATCH_outputEPC, MATCH_anyEPC, MATCH_epcClass, MATCH_inputEPCClass, "
            "MATCH_outputEPCClass",
        ),
        ("GE_quantity", "also EQ_/GT_/LT_/LE_quantity"),
        ("EQ_persistentDisposition_set", "also EQ_persistentDisposition_unset"),
        (
            "EXISTS_errorDeclaration",
            "also GE_/LT_errorDeclarationTime, EQ_errorReason, EQ_correctiveEventID",
        ),
        (
            "EQ_bizTransaction_{type}",
            "e.g. EQ_bizTransaction_po; also EQ_source_{type}, EQ_destination_{type}",
        ),
        (
            "EQ_type",
            "sensor report type; also EQ_deviceID, EQ_stringValue, EQ_booleanValue, "
            "GE_value[_{uom}], GE_minValue, …, GE_/LT_time",
        ),
        (
            "EQ_{prefix:field}",
            "extension fields: EQ_/GT_/GE_/LT_/LE_/EXISTS_ with INNER_, ILMD_, "
            "ERROR_DECLARATION_, SENSORELEMENT_, SENSORMETADATA_, SENSORREPORT_",
        ),
        ("orderBy", "eventTime or recordTime (then orderDirection defaults to DESC)"),
        ("orderDirection", "ASC or DESC"),
        ("eventCountLimit", "at most this many events in all"),
        ("maxEventCount", "413 when more events match"),
        (
            "perPage",
            f"events per page, 1..{EPCIS_MAX_PER_PAGE} (default {EPCIS_DEFAULT_PER_PAGE}); a "
            f"page also stops once its events pass {EPCIS_MAX_PAGE_BYTES // 2**20} MiB of JSON "
            "(nextPageToken continues)",
        ),
        ("nextPageToken", "from the previous page's Link / GS1-Next-Page-Token"),
    )
]

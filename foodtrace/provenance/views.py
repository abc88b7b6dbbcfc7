"""Trace routes: upstream or downstream from a lot, a party, a business transaction or a
logistic unit, as JSON or CSV. Traces show who supplied whom, which is business-sensitive:
only inspectors and regulators may run them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth.deps import require_roles
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.provenance import service
from foodtrace.record.views import API
from foodtrace.trace.provenance import Origin

CSV = "text/csv"
Tracer = Annotated[Principal, Depends(require_roles(Role.INSPECTOR, Role.REGULATOR))]
DirectionQuery = Annotated[
    Literal["upstream", "downstream"],
    Query(description="upstream: where it came from; downstream: where it went"),
]
DepthQuery = Annotated[
    int | None,
    Query(ge=0, le=service.MAX_DEPTH, description=f"hops to follow (default {service.MAX_DEPTH})"),
]
FormatQuery = Annotated[
    Literal["json", "csv"] | None,
    Query(description="json or csv; by default chosen by the Accept header (JSON)"),
]
GtinPath = Annotated[str, Path(pattern=r"^\d{8,14}$", examples=["06901234567892"])]

_EXAMPLE: dict[str, Any] = {
    "origin": {"kind": "lot", "gtin": "06901234000011", "lot_code": "L20261125"},
    "direction": "downstream",
    "depth": 10,
    "lots": [
        {
            "gtin": "06901234000011",
            "lot_code": "L20261125",
            "depth": 0,
            "id": "https://id.gs1.org/01/06901234000011/10/L20261125",
            "kind": "lot",
            "holder": "processor-01",
            "holders": ["processor-01"],
            "quantity": 1200.0,
            "unit": "kg",
            "first_event_time": "2026-11-25T06:30:00.000Z",
            "last_event_time": "2026-11-25T11:00:00.000Z",
            "entry_indices": [12, 15, 17],
        }
    ],
    "parties": [
        {
            "party_id": "processor-01",
            "name": "潍坊鲜达净菜加工有限公司",
            "roles": ["received", "transformed"],
            "received": [{"quantity": 1200.0, "uom": "KGM"}],
            "entry_indices": [17, 18],
        }
    ],
    "edges": [
        {
            "from": "https://id.gs1.org/01/06901234000011/10/L20261125",
            "to": "https://id.gs1.org/01/06901234000035/10/S20261126",
            "kind": "transformation",
            "entry_index": 18,
            "party": "processor-01",
            "quantity": 500.0,
            "uom": "KGM",
            "time": "2026-11-26T01:00:00.000Z",
        }
    ],
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Every object reached, the parties they passed and the edges",
        "content": {
            "application/json": {"example": _EXAMPLE},
            CSV: {"schema": {"type": "string"}, "example": "depth,kind,gtin,lot_code,id,…"},
        },
    },
    **problem_responses(401, 403, 404, 422),
}


def _answer(
    request: Request,
    session: Any,
    origin: Origin,
    direction: str,
    depth: int | None,
    fmt: str | None,
) -> Response:
    try:
        result = service.trace(session, origin, direction=direction, depth=depth)  # type: ignore[arg-type]
    except service.UnknownOrigin as exc:
        raise Problem(404, "Not Found", str(exc), problem_type("not-found")) from exc
    except ValueError as exc:
        raise Problem(
            422,
            "Invalid trace",
            str(exc),
            problem_type("invalid-trace"),
            [FieldProblem("/query", str(exc))],
        ) from exc
    wants_csv = fmt == "csv" or (fmt is None and CSV in request.headers.get("accept", ""))
    if wants_csv:
        return Response(result.to_csv(), media_type=f"{CSV}; charset=utf-8")
    return JSONResponse(result.to_json())


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["provenance"])

    @r.get(
        "/lots/{gtin}/{lot_code}/trace",
        summary="Trace a lot upstream or downstream (inspector, regulator)",
        response_class=Response,
        responses=_RESPONSES,
    )
    def trace_lot(
        request: Request,
        session: SessionDep,
        _: Tracer,
        gtin: GtinPath,
        lot_code: Annotated[str, Path(examples=["L20261125"])],
        direction: DirectionQuery,
        depth: DepthQuery = None,
        format: FormatQuery = None,
    ) -> Response:
        return _answer(request, session, Origin.lot(gtin, lot_code), direction, depth, format)

    @r.get(
        "/parties/{party_id}/trace",
        summary="Trace everything a party handled (inspector, regulator)",
        response_class=Response,
        responses=_RESPONSES,
    )
    def trace_party(
        request: Request,
        session: SessionDep,
        _: Tracer,
        party_id: str,
        direction: DirectionQuery,
        depth: DepthQuery = None,
        format: FormatQuery = None,
    ) -> Response:
        return _answer(request, session, Origin.party(party_id), direction, depth, format)

    @r.get(
        "/ssccs/{sscc}/trace",
        summary="Trace a logistic unit and what was packed in it (inspector, regulator)",
        response_class=Response,
        responses=_RESPONSES,
    )
    def trace_sscc(
        request: Request,
        session: SessionDep,
        _: Tracer,
        sscc: Annotated[str, Path(pattern=r"^\d{18}$", examples=["369012340000000017"])],
        direction: DirectionQuery,
        depth: DepthQuery = None,
        format: FormatQuery = None,
    ) -> Response:
        return _answer(request, session, Origin.logistic_unit(sscc), direction, depth, format)

    @r.get(
        "/transactions/trace",
        summary="Trace what a business transaction's events named (inspector, regulator)",
        response_class=Response,
        responses=_RESPONSES,
    )
    def trace_transaction(
        request: Request,
        session: SessionDep,
        _: Tracer,
        id: Annotated[str, Query(description="the bizTransaction URI, e.g. a purchase order")],
        direction: DirectionQuery,
        depth: DepthQuery = None,
        format: FormatQuery = None,
    ) -> Response:
        origin = Origin.business_transaction(id)
        return _answer(request, session, origin, direction, depth, format)

    return r

"""Routes for recalls: open (producer or regulator), acknowledge and report (affected
parties), close (regulator), read the case, export its scope, and the zh-CN case page."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, PageRequest, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.auth.models import Principal
from foodtrace.config import Settings
from foodtrace.fsma.sheet import CSV_TYPE, XLSX_TYPE
from foodtrace.labels.service import authority_key
from foodtrace.party.models import Party
from foodtrace.product.models import Product
from foodtrace.recall import export, flows, service
from foodtrace.recall.schemas import (
    KIND_LABELS,
    RECALL_ID,
    AckBody,
    CloseBody,
    RecallIn,
    RecallOut,
    ReportBody,
)
from foodtrace.record.views import (
    API,
    Payload,
    not_found,
    sessions,
    settings_of,
    write,
    write_openapi,
)
from foodtrace.resolver.display import show_num, show_time
from foodtrace.resolver.rendering import static_url
from foodtrace.trace.codes import lot_code

RecallIdPath = Annotated[str, Path(pattern=RECALL_ID, examples=["RC-2026-7KQ2-M9XD"])]


@cache
def templates() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("foodtrace.recall", "templates"), PackageLoader("foodtrace.resolver")]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=static_url, show=show_time, num=show_num)
    return env


def _case(request: Request, recall_id: str) -> RecallOut:
    settings = settings_of(request)
    with sessions(request)() as session:
        case = service.get_case(session, recall_id, datetime.now(UTC), service.calendar(settings))
    if case is None:
        raise not_found(f"Recall {recall_id}")
    return case


def _step(request: Request, principal: Any, type: str, recall_id: str, payload: Any) -> RecallOut:
    """One step of a case: the path names the case, a plain body gets it added, a signed
    entry must name the same case."""
    if "entry" in payload:
        named = (payload.get("entry") or {}).get("body", {}).get("recall_id")
        if named != recall_id:
            raise Problem(
                422,
                "Invalid entries",
                f"the entry names recall {named}, the path {recall_id}",
                problem_type("invalid-entry"),
                [FieldProblem("/body/entry/body/recall_id", f"expected {recall_id}")],
            )
        write(request, principal, type, payload)
    else:
        write(request, principal, type, {**payload, "recall_id": recall_id})
    return _case(request, recall_id)


# The role is checked before the body is validated: a role that may not open recalls is
# refused (403) without learning which fields a recall needs.
Initiator = Annotated[Principal, Depends(require_roles(*service.INITIATORS))]


def router(_: Settings) -> APIRouter:
    r = APIRouter(tags=["recalls"])

    @r.post(
        API + "/recalls",
        status_code=201,
        summary="Open a recall (producer: voluntary; regulator: ordered)",
        response_model=RecallOut,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    def open_recall(request: Request, principal: Initiator, body: RecallIn) -> Any:
        recall_id = flows.open_recall(
            request.app.state.log, sessions(request), settings_of(request), principal, body
        )
        return _case(request, recall_id)

    @r.get(
        API + "/recalls",
        summary="Recall cases, newest first",
        response_model=list[RecallOut],
        responses=paged_responses(),
    )
    def list_recalls(
        request: Request,
        session: SessionDep,
        page: PageDep,
        response: Response,
        open_only: Annotated[bool, Query(alias="open")] = False,
        limit: Annotated[int, Query(ge=1, le=500, description="at most (or perPage)")] = 100,
    ) -> Any:
        work = service.calendar(settings_of(request))
        size = min(limit, page.per_page)
        rows = service.list_cases(
            session,
            datetime.now(UTC),
            work,
            open_only=open_only,
            limit=size + 1,
            before=page.after_time("recalls"),
        )
        return PageRequest(size, page.token, page.url).page(
            response, "recalls", rows, lambda c: [c.opened_at.isoformat(), c.id]
        )

    @r.get(
        API + "/recalls/{recall_id}",
        summary="A recall case: scope, clocks and progress",
        response_model=RecallOut,
        responses=problem_responses(404),
    )
    def read_recall(request: Request, recall_id: RecallIdPath) -> Any:
        return _case(request, recall_id)

    @r.post(
        API + "/recalls/{recall_id}/acknowledgements",
        status_code=201,
        summary="Acknowledge a recall (an affected party)",
        response_model=RecallOut,
        responses=problem_responses(401, 403, 404, 409, 422),
        openapi_extra=write_openapi(AckBody, {}),
    )
    def acknowledge(
        request: Request, principal: PrincipalDep, recall_id: RecallIdPath, payload: Payload
    ) -> Any:
        return _step(request, principal, service.ACK_TYPE, recall_id, payload)

    @r.post(
        API + "/recalls/{recall_id}/reports",
        status_code=201,
        summary="Report quantities recovered or destroyed (an affected party)",
        response_model=RecallOut,
        responses=problem_responses(401, 403, 404, 409, 422),
        openapi_extra=write_openapi(ReportBody, ReportBody.model_json_schema()["examples"][0]),
    )
    def report(
        request: Request, principal: PrincipalDep, recall_id: RecallIdPath, payload: Payload
    ) -> Any:
        return _step(request, principal, service.REPORT_TYPE, recall_id, payload)

    @r.post(
        API + "/recalls/{recall_id}/close",
        status_code=201,
        summary="Close a recall with a regulator's sign-off",
        response_model=RecallOut,
        responses=problem_responses(401, 403, 404, 409, 422),
        openapi_extra=write_openapi(CloseBody, CloseBody.model_json_schema()["examples"][0]),
    )
    def close(
        request: Request, principal: PrincipalDep, recall_id: RecallIdPath, payload: Payload
    ) -> Any:
        return _step(request, principal, service.CLOSE_TYPE, recall_id, payload)

    @r.get(
        API + "/recalls/{recall_id}/scope.csv",
        summary="A recall's scope as CSV",
        response_class=Response,
        responses={200: {"content": {CSV_TYPE: {}}}, **problem_responses(404)},
    )
    def scope_csv(request: Request, recall_id: RecallIdPath) -> Response:
        content = export.scope_csv(_case(request, recall_id))
        return Response(content, media_type=CSV_TYPE, headers=_attachment(recall_id, "csv"))

    @r.get(
        API + "/recalls/{recall_id}/scope.xlsx",
        summary="A recall's scope as XLSX",
        response_class=Response,
        responses={200: {"content": {XLSX_TYPE: {}}}, **problem_responses(404)},
    )
    def scope_xlsx(request: Request, recall_id: RecallIdPath) -> Response:
        content = export.scope_xlsx(_case(request, recall_id))
        return Response(content, media_type=XLSX_TYPE, headers=_attachment(recall_id, "xlsx"))

    @r.get(
        "/recalls/{recall_id}",
        summary="The recall case page (zh-CN)",
        response_class=HTMLResponse,
        responses={200: {"content": {"text/html": {}}}, **problem_responses(404)},
    )
    def case_page(request: Request, session: SessionDep, recall_id: RecallIdPath) -> Any:
        case = _case(request, recall_id)
        settings = settings_of(request)
        ids = {case.initiator, *(p.party_id for p in case.parties)}
        ids |= {lot.holder for lot in case.scope.lots if lot.holder}
        ids |= {case.closed_by} if case.closed_by else set()
        names = {
            p.party_id: p.name for p in session.query(Party).filter(Party.party_id.in_(sorted(ids)))
        }
        product = session.get(Product, case.gtin)
        key = authority_key(settings)
        base = settings.public_base_url
        html = (
            templates()
            .get_template("case.html")
            .render(
                case=case,
                kind_label=KIND_LABELS[case.kind],
                product=product.name if product else case.gtin,
                initiator=names.get(case.initiator, case.initiator),
                closer=names.get(case.closed_by or "", case.closed_by),
                names=names,
                overdue_names=[names.get(p, p) for p in case.progress.overdue_parties],
                lot_url=lambda lot: lot_code(base, lot.gtin, lot.lot_code, key).url,
            )
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return r


def _attachment(recall_id: str, ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="recall-{recall_id}-scope.{ext}"'}

"""Inspectors' list of suspected cloned codes, and clearing a flag after review. Counting
itself happens in the resolver."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import problem_responses
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.config import Settings
from foodtrace.record.views import API, Payload, write, write_openapi
from foodtrace.scan import service
from foodtrace.scan.schemas import ClearedOut, SuspectOut

Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]

CLEAR_EXAMPLE = {
    "code_key": "ft1|01|06901234567892|21|SN0001",
    "note": "现场核查：该码仅贴于一件正品，多网络扫码来自同一连锁门店的不同出口",
}


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["scans"])
    thresholds = service.thresholds_from(settings)

    @r.get(
        "/scan/suspects",
        summary="Serial codes whose clone flag holds, newest first (inspector, regulator)",
        response_model=list[SuspectOut],
        responses=paged_responses(401, 403),
    )
    def list_suspects(session: SessionDep, _: Handler, page: PageDep, response: Response) -> Any:
        before = page.after_time("scan/suspects")
        rows = service.suspects(session, page.per_page + 1, before=before, thresholds=thresholds)
        return page.page(
            response,
            "scan/suspects",
            rows,
            lambda s: [s.flagged_at.isoformat() if s.flagged_at else "", s.code_key],
        )

    @r.post(
        "/scan/suspects/clear",
        status_code=201,
        summary="Clear a code's clone flag after review (inspector, regulator; logged)",
        description=(
            "Writes a signed `scan.clear` entry naming the code and the reviewer's note. "
            "The page then shows the code as reviewed; the networks that raised the flag "
            "no longer count, so only new anomalies can flag it again. 409 if the code is "
            "not flagged, 422 if it was never scanned."
        ),
        response_model=ClearedOut,
        openapi_extra=write_openapi(service.ClearBody, CLEAR_EXAMPLE),
        responses=problem_responses(401, 403, 409, 422),
    )
    def clear(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "scan.clear", payload)
        with request.app.state.sessions() as session:
            return service.cleared(session, ref.index)

    return r

"""Inspectors' list of suspected cloned codes. Counting itself happens in the resolver."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from foodtrace.api.app import SessionDep
from foodtrace.api.problems import problem_responses
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import require_roles
from foodtrace.config import Settings
from foodtrace.record.views import API
from foodtrace.scan import service
from foodtrace.scan.schemas import SuspectOut

Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["scans"])

    @r.get(
        "/scan/suspects",
        summary="Serial codes flagged as likely clones (inspector, regulator)",
        response_model=list[SuspectOut],
        responses=problem_responses(401, 403),
    )
    def list_suspects(
        session: SessionDep, _: Handler, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> Any:
        return service.suspects(session, limit)

    return r

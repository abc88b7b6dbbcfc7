"""Routes for alerts: the list per grid (inspectors, regulators), a business's own alerts and
ladder steps, and climbing the ladder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from foodtrace.alert import service
from foodtrace.alert.gather import RANK
from foodtrace.alert.rules import Kind
from foodtrace.alert.schemas import AlertOut, EscalationOut, PartyAlertsOut
from foodtrace.api.app import SessionDep
from foodtrace.api.paging import TEXT, PageDep, paged_responses
from foodtrace.api.problems import Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.config import Settings
from foodtrace.record.views import API, get_log, sessions, settings_of

Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["alerts"])

    @r.get(
        "/alerts",
        summary="Open alerts, each with a kind (inspector, regulator); filter by grid or kind",
        response_model=list[AlertOut],
        responses=paged_responses(401, 403, 422),
    )
    def read_alerts(
        request: Request,
        session: SessionDep,
        _: Handler,
        page: PageDep,
        response: Response,
        grid_id: Annotated[str | None, Query(max_length=64)] = None,
        kind: Annotated[list[Kind] | None, Query()] = None,
    ) -> Any:
        after = page.after_key(_rank, TEXT, TEXT, TEXT, TEXT)
        return page.keyed(
            response,
            service.list_alerts(
                session,
                settings_of(request),
                datetime.now(UTC),
                grid_id=grid_id,
                kinds=set(kind) if kind else None,
                after=None if after is None else (after[0], *after[1:]),
                limit=page.fetch,
            ),
            lambda a: a.kind.value,
            lambda a: a.party_id or "",
            lambda a: a.subject,
            lambda a: a.detail,
            lambda a: "" if a.since is None else a.since.isoformat(),
        )

    @r.get(
        "/parties/{party_id}/alerts",
        summary="A business's own alerts and the ladder steps (提醒→警示→约谈→检查) it was put "
        "on (the business itself, inspectors, regulators)",
        response_model=PartyAlertsOut,
        responses=problem_responses(401, 403),
    )
    def read_party_alerts(
        request: Request, session: SessionDep, principal: PrincipalDep, party_id: str
    ) -> Any:
        if principal.role not in (Role.REGULATOR, Role.INSPECTOR) and (
            principal.party_id != party_id
        ):
            raise Problem(
                403,
                "Forbidden",
                f"A business reads its own alerts only; the token is {principal.party_id}'s.",
                problem_type("forbidden"),
            )
        return service.party_alerts(session, settings_of(request), party_id, datetime.now(UTC))

    @r.post(
        "/alerts/escalations",
        summary="Log the ladder steps now due (inspector, regulator; a periodic job calls the "
        "same function)",
        response_model=list[EscalationOut],
        responses=problem_responses(401, 403),
    )
    def escalate(request: Request, _: Handler) -> Any:
        return service.escalate(get_log(request), sessions(request), settings_of(request))

    return r


def _rank(value: Any) -> int:
    """A token's kind, as its rank in the list's order (an unknown kind is refused)."""
    return RANK[Kind(TEXT(value))]

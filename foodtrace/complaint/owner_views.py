"""Routes for a complaint's owners: who they are, their confirmations, the complainant's
rating, and escalating overdue complaints to the station head."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import TEXT, TIME, PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.complaint import owned, owners
from foodtrace.complaint.clocks import Clocks
from foodtrace.complaint.owner_schemas import (
    CONFIRM_EXAMPLE,
    ConfirmBody,
    EscalationOut,
    RatingIn,
    RouteOut,
)
from foodtrace.complaint.service import NotFound
from foodtrace.complaint.tracking import normalize_tracking_number
from foodtrace.config import Settings
from foodtrace.record.views import (
    API,
    Payload,
    check_path,
    get_log,
    not_found,
    sessions,
    settings_of,
    write,
    write_openapi,
)

Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["complaints"])

    def _owners(request: Request, tracking_number: str) -> RouteOut:
        with sessions(request)() as session:
            try:
                return owned.route_out(
                    session,
                    tracking_number,
                    Clocks.of(settings_of(request)),
                    datetime.now(UTC),
                )
            except NotFound as exc:
                raise not_found(f"Routed complaint {tracking_number}") from exc

    @r.get(
        "/complaints/{tracking_number}/owners",
        summary="A complaint's officer, grid worker and station head, confirmations and "
        "clocks (inspector, regulator)",
        response_model=RouteOut,
        responses=problem_responses(401, 403, 404),
    )
    def read_owners(request: Request, _: Handler, tracking_number: str) -> Any:
        return _owners(request, tracking_number[:40])

    @r.get(
        "/complaints-owned",
        summary="Routed complaints the caller owns, or those of a grid (inspector, regulator)",
        response_model=list[RouteOut],
        responses=paged_responses(401, 403),
    )
    def read_owned(
        request: Request,
        session: SessionDep,
        principal: Handler,
        page: PageDep,
        response: Response,
        grid_id: str | None = None,
        open_only: Annotated[bool, Query(alias="open")] = False,
    ) -> Any:
        after = page.after_key(TIME, TEXT)
        found = owned.owned_with_complaints(
            session,
            Clocks.of(settings_of(request)),
            datetime.now(UTC),
            grid_ids=[grid_id] if grid_id else None,
            person=None if grid_id else principal.party_id,
            open_only=open_only,
            before=None if after is None else (after[0], after[1]),
            limit=page.fetch,
        )
        found = page.keyed(
            response, found, lambda o: o[1].received_at, lambda o: o[0].tracking_number
        )
        return [route for route, _ in found]

    @r.post(
        "/complaints/{tracking_number}/confirmations",
        status_code=201,
        summary="The grid's officer or grid worker confirms the complaint was handled",
        response_model=RouteOut,
        openapi_extra=write_openapi(ConfirmBody, CONFIRM_EXAMPLE),
        responses=problem_responses(401, 403, 409, 422),
    )
    def confirm(
        request: Request, principal: PrincipalDep, payload: Payload, tracking_number: str
    ) -> Any:
        check_path(principal, owners.CONFIRM_TYPE, payload, "tracking_number", tracking_number)
        write(request, principal, owners.CONFIRM_TYPE, payload)
        return _owners(request, tracking_number)

    @r.post(
        "/complaints/{tracking_number}/rating",
        status_code=201,
        summary="The complainant rates the handling, 1–5 (public: the tracking number "
        "is the proof); closes the complaint once both owners confirmed",
        response_model=RouteOut,
        responses=problem_responses(404, 409, 422),
    )
    def rate(request: Request, tracking_number: str, data: RatingIn) -> Any:
        number = normalize_tracking_number(tracking_number[:40])
        try:
            owners.rate(
                get_log(request), sessions(request), settings_of(request), number, data.rating
            )
        except NotFound as exc:
            raise not_found(f"Routed complaint {number}") from exc
        except owners.NotReady as exc:
            raise Problem(
                409,
                "Not ready to rate",
                str(exc),
                problem_type("conflict"),
                [FieldProblem("/body/rating", str(exc))],
            ) from exc
        return _owners(request, number)

    @r.post(
        "/complaints/escalations",
        summary="Escalate every complaint whose clock ran out to its station head "
        "(inspector, regulator; a periodic job calls the same function)",
        response_model=list[EscalationOut],
        responses=problem_responses(401, 403),
    )
    def escalate(request: Request, _: Handler) -> Any:
        return owners.escalate_overdue(get_log(request), sessions(request), settings_of(request))

    return r

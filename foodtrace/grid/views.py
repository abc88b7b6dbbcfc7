"""Routes for grids: defining them, assigning businesses, "my grids", a grid's businesses,
and its complaint dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import TEXT, PageDep, paged_responses
from foodtrace.api.problems import problem_responses
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.complaint import owned
from foodtrace.complaint.clocks import Clocks
from foodtrace.config import Settings
from foodtrace.grading.flows import local_day
from foodtrace.grid import service
from foodtrace.grid.models import Grid
from foodtrace.grid.schemas import (
    ASSIGN_EXAMPLE,
    GRID_EXAMPLE,
    AssignBody,
    DashboardOut,
    GridBody,
    GridBusinessOut,
    GridOut,
)
from foodtrace.record.schemas import Recorded
from foodtrace.record.views import (
    API,
    Payload,
    check_path,
    get_log,
    not_found,
    recorded,
    sessions,
    settings_of,
    write,
    write_openapi,
)

Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]
WRITE_ERRORS = problem_responses(401, 403, 422)
READ_ERRORS = problem_responses(401, 403, 404)


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["grids"])

    @r.post(
        "/grids",
        status_code=201,
        summary="Define a grid, or give it new owners (regulator)",
        response_model=Recorded[GridOut],
        openapi_extra=write_openapi(GridBody, GRID_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def define(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, service.DEFINE_TYPE, payload)
        with sessions(request)() as session:
            grid = service.get_grid(session, ref.entry.body["grid_id"])
        return recorded(get_log(request), grid, ref.index)

    @r.post(
        "/grids/{grid_id}/businesses",
        status_code=201,
        summary="Assign businesses to a grid (regulator); a business is in one grid at a time",
        response_model=Recorded[GridOut],
        openapi_extra=write_openapi(AssignBody, ASSIGN_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def assign(request: Request, principal: PrincipalDep, payload: Payload, grid_id: str) -> Any:
        check_path(principal, service.ASSIGN_TYPE, payload, "grid_id", grid_id)
        ref = write(request, principal, service.ASSIGN_TYPE, payload)
        with sessions(request)() as session:
            grid = service.get_grid(session, ref.entry.body["grid_id"])
        return recorded(get_log(request), grid, ref.index)

    @r.get(
        "/grids",
        summary="Grids (inspector, regulator); mine=true: those the caller owns",
        response_model=list[GridOut],
        responses=paged_responses(401, 403),
    )
    def list_grids(
        session: SessionDep,
        principal: Handler,
        page: PageDep,
        response: Response,
        mine: bool = False,
    ) -> Any:
        after = page.after_key(TEXT)
        grids = service.list_grids(
            session,
            person=principal.party_id if mine else None,
            after=None if after is None else after[0],
            limit=page.fetch,
        )
        return page.keyed(response, grids, lambda g: g.grid_id)

    def _grid(session: SessionDep, grid_id: str) -> Grid:
        grid = session.get(Grid, grid_id)
        if grid is None:
            raise not_found(f"Grid {grid_id}")
        return grid

    @r.get(
        "/grids/{grid_id}/businesses",
        summary="A grid's businesses with grade and 量化分级 face (inspector, regulator)",
        response_model=list[GridBusinessOut],
        responses=paged_responses(401, 403, 404),
    )
    def read_businesses(
        session: SessionDep, _: Handler, grid_id: str, page: PageDep, response: Response
    ) -> Any:
        _grid(session, grid_id)
        after = page.after_key(TEXT)
        found = service.businesses(
            session,
            grid_id,
            local_day(),
            after=None if after is None else after[0],
            limit=page.fetch,
        )
        return page.keyed(response, found, lambda b: b.party_id)

    @r.get(
        "/grids/{grid_id}/dashboard",
        summary="A grid's complaints: handled, on-time %, satisfaction (inspector, regulator)",
        response_model=DashboardOut,
        responses=READ_ERRORS,
    )
    def read_dashboard(
        request: Request,
        session: SessionDep,
        _: Handler,
        grid_id: str,
        at: Annotated[datetime | None, Query(description="default: now")] = None,
    ) -> Any:
        clocks = Clocks.of(settings_of(request))
        return owned.dashboard(session, _grid(session, grid_id), clocks, at or datetime.now(UTC))

    return r

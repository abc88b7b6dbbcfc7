"""The work behind the workbench's complaint forms (run in the thread pool): routed to my
grids, answered through :func:`foodtrace.complaint.service.record_update`, confirmed through
the write path as the owner's ``complaint.confirm``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from foodtrace.api.problems import FieldProblem, Problem
from foodtrace.auth.models import Principal
from foodtrace.complaint import owners
from foodtrace.complaint import service as complaints
from foodtrace.complaint.bulk import complaints_by_number
from foodtrace.complaint.owner_schemas import Capacity
from foodtrace.complaint.schemas import Stage
from foodtrace.record.registry import ProjectionError
from foodtrace.record.views import get_log, sessions, settings_of, write
from foodtrace.workbench import access, forms, pages
from foodtrace.workbench.pages import PREFIX
from foodtrace.workbench.web import (
    Visitor,
    now,
    page,
)


def routed(request: Request, principal: Principal) -> list[tuple[Any, Any]]:
    at = now()
    with sessions(request)() as db:
        mine = [g.grid_id for g in access.my_grids(db, principal)]
        routed = owners.owned(db, owners.Clocks.of(settings_of(request)), at, grid_ids=mine)
        found = complaints_by_number(db, [o.tracking_number for o in routed], at)
        return [(o, found.get(o.tracking_number)) for o in routed]


def route_in_scope(request: Request, principal: Principal, tracking_number: str) -> Any:
    with sessions(request)() as db:
        try:
            route = owners.route_out(
                db, tracking_number, owners.Clocks.of(settings_of(request)), now()
            )
        except complaints.NotFound:
            return None
        mine = {g.grid_id for g in access.my_grids(db, principal)}
    return route if route.grid_id in mine else None


def answer(
    request: Request, v: Visitor, principal: Principal, tracking_number: str, fields: dict[str, str]
) -> Response:
    route = route_in_scope(request, principal, tracking_number)
    if route is None:
        return page(
            request, v, "refused.html", 404, title="未找到", detail="没有分派到您网格的这条投诉。"
        )
    problems = []
    stage = fields.get("stage", "")
    if stage not in {s.value for s in Stage}:
        problems.append(FieldProblem("/form/stage", "choose response or feedback"))
    note = fields.get("note", "").strip()
    if not 1 <= len(note) <= forms.MAX_TEXT:
        problems.append(FieldProblem("/form/note", f"expected 1 to {forms.MAX_TEXT} characters"))
    if problems:
        return complaint_problems(request, v, principal, problems)
    try:
        complaints.record_update(
            get_log(request),
            sessions(request),
            settings_of(request),
            tracking_number,
            Stage(stage),
            principal.party_id,
            note,
        )
    except Problem as exc:
        return complaint_problems(request, v, principal, pages.problems_of(exc), exc.status)
    except ProjectionError as exc:
        found = [FieldProblem(f"/form/{f}" if f else "/form", d) for f, d in exc.problems]
        return complaint_problems(request, v, principal, found, exc.status)
    return RedirectResponse(f"{PREFIX}/complaints#c-{tracking_number}", status_code=303)


def confirm(request: Request, v: Visitor, principal: Principal, tracking_number: str) -> Response:
    route = route_in_scope(request, principal, tracking_number)
    if route is None:
        return page(
            request, v, "refused.html", 404, title="未找到", detail="没有分派到您网格的这条投诉。"
        )
    capacity = {route.officer: Capacity.OFFICER, route.grid_worker: Capacity.GRID_WORKER}.get(
        principal.party_id
    )
    if capacity is None:
        return page(
            request,
            v,
            "refused.html",
            403,
            title="无权确认",
            detail="只有本网格的监管员和网格员可以确认办结。",
        )
    body = {
        "tracking_number": tracking_number,
        "capacity": capacity.value,
        "confirmed_at": now().isoformat(),
    }
    try:
        write(request, principal, owners.CONFIRM_TYPE, body)
    except Problem as exc:
        return complaint_problems(request, v, principal, pages.problems_of(exc), exc.status)
    return RedirectResponse(f"{PREFIX}/complaints#c-{tracking_number}", status_code=303)


def complaint_problems(
    request: Request,
    v: Visitor,
    principal: Principal,
    problems: list[FieldProblem],
    status: int = 422,
) -> Response:
    return page(
        request,
        v,
        "complaints.html",
        status,
        items=routed(request, principal),
        problems=problems,
    )

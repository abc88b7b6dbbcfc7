"""The work behind the workbench's complaint forms (run in the thread pool): routed to my
grids, answered through :func:`foodtrace.complaint.service.record_update`, confirmed through
the write path as the owner's ``complaint.confirm``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from foodtrace.api.problems import FieldProblem, Problem
from foodtrace.auth.models import Principal
from foodtrace.complaint import owned, owners
from foodtrace.complaint import service as complaints
from foodtrace.complaint.clocks import Clocks
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.owner_schemas import Capacity, RouteOut
from foodtrace.complaint.schemas import CATEGORY_LABELS, Category, Stage
from foodtrace.record.registry import ProjectionError
from foodtrace.record.views import get_log, sessions, settings_of, write
from foodtrace.store.authors import utc
from foodtrace.workbench import access, forms, pages
from foodtrace.workbench.pages import PREFIX
from foodtrace.workbench.web import (
    Visitor,
    now,
    page,
)


@dataclass(frozen=True)
class ComplaintLine:
    """What the complaints page shows of a complaint (not its contact, so no personal data
    is read for it)."""

    merchant_id: str
    category_label: str
    description: str | None
    received_at: datetime
    responded_at: datetime | None
    feedback_at: datetime | None

    @classmethod
    def of(cls, row: Complaint) -> ComplaintLine:
        received = utc(row.received_at)
        assert received is not None
        return cls(
            row.merchant_id,
            CATEGORY_LABELS[Category(row.category)],
            row.description,
            received,
            utc(row.responded_at),
            utc(row.feedback_at),
        )


def routed(request: Request, principal: Principal) -> list[tuple[RouteOut, ComplaintLine]]:
    """The complaints routed to my grids with what the page shows of each: one query."""
    with sessions(request)() as db:
        mine = [g.grid_id for g in access.my_grids(db, principal)]
        clocks = Clocks.of(settings_of(request))
        found = owned.owned_with_complaints(db, clocks, now(), grid_ids=mine)
        return [(o, ComplaintLine.of(c)) for o, c in found]


def route_in_scope(request: Request, principal: Principal, tracking_number: str) -> Any:
    with sessions(request)() as db:
        try:
            route = owned.route_out(db, tracking_number, Clocks.of(settings_of(request)), now())
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

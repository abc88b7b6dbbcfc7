"""Complaint routes: the public files and follows a complaint; inspectors and regulators
list them with deadlines and answer them; a regulator erases the contact."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, PageRequest, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import require_roles
from foodtrace.complaint import service
from foodtrace.complaint.limits import RateLimiter
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.schemas import (
    ComplaintCreated,
    ComplaintIn,
    ComplaintOut,
    ComplaintStatusOut,
    ComplaintUpdateIn,
)
from foodtrace.complaint.tracking import normalize_tracking_number
from foodtrace.config import Settings
from foodtrace.health import erasure
from foodtrace.record.registry import ProjectionError
from foodtrace.record.views import API, get_log, not_found, sessions
from foodtrace.store import redact

COMPLAINT_MAX_BYTES = 16 * 1024
LIST_MAX = 500

Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]
Regulator = Annotated[Principal, Depends(require_roles(Role.REGULATOR))]
Reason = Annotated[str, Query(min_length=1, max_length=200)]


def _size_limit(request: Request) -> None:
    """Complaints are short: refuse a large declared body before reading it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > COMPLAINT_MAX_BYTES:
        raise Problem(
            413,
            "Content Too Large",
            f"A complaint is at most {COMPLAINT_MAX_BYTES} bytes.",
            problem_type("too-large"),
            [FieldProblem("/body", f"expected at most {COMPLAINT_MAX_BYTES} bytes")],
        )


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["complaints"])
    limiter = RateLimiter(settings.complaint_rate_per_minute)

    def rate_limit(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = limiter.allow(client)
        if wait is not None:
            raise Problem(
                429,
                "Too Many Requests",
                "Too many complaints from this address; try again shortly.",
                problem_type("rate-limited"),
                headers={"Retry-After": str(int(wait) + 1)},
            )

    @r.post(
        "/complaints",
        status_code=201,
        summary="File a complaint (public, no token); returns a tracking number",
        description=(
            "The contact is optional and never enters the log: the logged entry holds salted "
            "commitments only. `category` is a code (hygiene, quality, expired, "
            "foreign_matter, illness, labelling, price, service, other) or its Chinese label."
        ),
        response_model=ComplaintCreated,
        responses=problem_responses(413, 422, 429),
        dependencies=[Depends(_size_limit), Depends(rate_limit)],
    )
    def file_complaint(request: Request, data: ComplaintIn) -> Any:
        try:
            tracking = service.file_complaint(get_log(request), sessions(request), settings, data)
        except service.UnknownMerchant as exc:
            raise Problem(
                422,
                "Unknown merchant",
                str(exc),
                problem_type("unknown-merchant"),
                [FieldProblem("/body/merchant_id", "expected the id of a registered merchant")],
            ) from exc
        return ComplaintCreated(tracking_number=tracking)

    @r.get(
        "/complaints/{tracking_number}",
        summary="A complaint's status (public: status only, no personal data)",
        response_model=ComplaintStatusOut,
        responses=problem_responses(404),
    )
    def complaint_status(session: SessionDep, tracking_number: str) -> Any:
        status = service.public_status(session, tracking_number[:40])
        if status is None:
            raise not_found(f"Complaint {tracking_number[:40]}")
        return status

    @r.get(
        "/complaints",
        summary="Complaints with their deadlines and overdue flags (inspector, regulator)",
        response_model=list[ComplaintOut],
        responses=paged_responses(401, 403),
    )
    def list_complaints(
        session: SessionDep,
        _: Handler,
        page: PageDep,
        response: Response,
        merchant_id: str | None = None,
        open_only: Annotated[bool, Query(alias="open")] = False,
        overdue: bool = False,
        limit: Annotated[int, Query(ge=1, le=LIST_MAX, description="at most (or perPage)")] = 100,
    ) -> Any:
        size = min(limit, page.per_page)
        rows = service.list_complaints(
            session,
            merchant_id=merchant_id,
            open_only=open_only,
            overdue_only=overdue,
            limit=size + 1,
            before=page.after_time("complaints"),
        )
        return PageRequest(size, page.token, page.url).page(
            response, "complaints", rows, lambda c: [c.received_at.isoformat(), c.tracking_number]
        )

    @r.post(
        "/complaints/{tracking_number}/updates",
        summary="Record the response (30 min) or feedback (24 h) to a complaint",
        response_model=ComplaintOut,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    def update_complaint(
        request: Request, principal: Handler, tracking_number: str, data: ComplaintUpdateIn
    ) -> Any:
        try:
            service.record_update(
                get_log(request),
                sessions(request),
                settings,
                tracking_number,
                data.stage,
                principal.party_id,
                data.note,
            )
        except service.NotFound as exc:
            raise not_found(f"Complaint {tracking_number}") from exc
        except ProjectionError as exc:
            raise Problem(
                exc.status,
                "Conflicts with stored records",
                str(exc),
                problem_type("conflict"),
                [FieldProblem(f"/body/{f}" if f else "/body", d) for f, d in exc.problems],
            ) from exc
        with sessions(request)() as session:
            return service.get_complaint(session, tracking_number)

    def _erase(
        request: Request,
        background: BackgroundTasks,
        tracking_number: str,
        by: str,
        reason: str,
        contact: bool,
    ) -> Any:
        number = normalize_tracking_number(tracking_number)
        with sessions(request)() as session:
            row = session.get(Complaint, number)
            if row is None:
                raise not_found(f"Complaint {tracking_number}")
            only = {row.contact_commitment} if contact and row.contact_commitment else None
        if not contact or only:
            erasure.erase(
                get_log(request),
                sessions(request),
                settings,
                "complaint",
                number,
                by,
                reason,
                only=only,
            )
            background.add_task(redact.purge_sqlite_wal, request.app.state.engine)
        with sessions(request)() as session:
            return service.get_complaint(session, number)

    @r.delete(
        "/complaints/{tracking_number}/contact",
        summary="Erase the complainant's contact (regulator, PIPL); proofs stay valid",
        description="Logged as a `personal.erase` entry (commitment, reason, regulator).",
        response_model=ComplaintOut,
        responses=problem_responses(401, 403, 404),
    )
    def erase_contact(
        request: Request,
        background: BackgroundTasks,
        principal: Regulator,
        tracking_number: str,
        reason: Reason = erasure.DEFAULT_REASON,
    ) -> Any:
        return _erase(
            request, background, tracking_number, principal.party_id, reason, contact=True
        )

    @r.delete(
        "/complaints/{tracking_number}/personal-data",
        summary="Erase the complaint's description and contact (regulator, PIPL)",
        description=(
            "A description can name or describe the complainant: it is personal data. Both "
            "values are overwritten, then cleared, with a logged `personal.erase` entry."
        ),
        response_model=ComplaintOut,
        responses=problem_responses(401, 403, 404),
    )
    def erase_personal_data(
        request: Request,
        background: BackgroundTasks,
        principal: Regulator,
        tracking_number: str,
        reason: Reason = erasure.DEFAULT_REASON,
    ) -> Any:
        return _erase(
            request, background, tracking_number, principal.party_id, reason, contact=False
        )

    return r

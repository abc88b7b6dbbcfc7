"""Routes for computed grades, penalties, complaint findings, credit repair and the
inspection schedule. Thin: each write goes through :func:`foodtrace.record.views.write` and
then recomputes the party it touched."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import DAY, INT, TEXT, PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.config import Settings
from foodtrace.grading import flows, planning, service
from foodtrace.grading.schedule import DueStatus
from foodtrace.grading.schemas import (
    DECISION_EXAMPLE,
    FINDING_EXAMPLE,
    PENALTY_EXAMPLE,
    REPAIR_EXAMPLE,
    FindingBody,
    GradeRecordOut,
    PenaltyBody,
    PenaltyOut,
    RecomputeOut,
    RepairApplyBody,
    RepairDecideBody,
    RepairOut,
    ScheduleOut,
)
from foodtrace.record.schemas import Recorded
from foodtrace.record.views import (
    API,
    LogDep,
    Payload,
    get_log,
    not_found,
    recorded,
    sessions,
    settings_of,
    write,
    write_openapi,
)

Regulator = Annotated[Principal, Depends(require_roles(Role.REGULATOR))]
Handler = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))]
AsOf = Annotated[
    date | None, Query(description="the day to compute for (default: today in China, UTC+8)")
]
WRITE_ERRORS = problem_responses(401, 403, 409, 422)


def _body(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    entry = payload.get("entry")
    if isinstance(entry, Mapping):
        body = entry.get("body")
        return body if isinstance(body, Mapping) else {}
    return payload


def _recompute(request: Request, party_id: str) -> None:
    flows.recompute(get_log(request), sessions(request), settings_of(request), only=[party_id])


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["grades"])

    @r.get(
        "/parties/{party_id}/grades",
        summary="A party's credit grades, newest first: computed ones carry their 8 "
        "indicators and policy version; hand-typed grade.set ones are history",
        response_model=list[Recorded[GradeRecordOut]],
        responses=paged_responses(),
    )
    def read_party_grades(
        log: LogDep, session: SessionDep, party_id: str, page: PageDep, response: Response
    ) -> Any:
        found = service.party_grades(session, party_id, before=page.after_index(), limit=page.fetch)
        grades = page.keyed(response, found, _index)
        return [recorded(log, g, g.entry_index) for g in grades]

    @r.post(
        "/grades/recompute",
        summary="Recompute every business's grade now and log those that changed (regulator)",
        response_model=RecomputeOut,
        responses=problem_responses(401, 403),
    )
    def recompute(request: Request, _: Regulator, as_of: AsOf = None) -> Any:
        return flows.recompute(
            get_log(request), sessions(request), settings_of(request), as_of=as_of
        )

    @r.post(
        "/penalties",
        status_code=201,
        summary="Record an administrative penalty (regulator); regrades the party",
        response_model=Recorded[PenaltyOut],
        openapi_extra=write_openapi(PenaltyBody, PENALTY_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def record_penalty(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, service.PENALTY_TYPE, payload)
        _recompute(request, ref.entry.body["party_id"])
        with sessions(request)() as session:
            penalty = service.get_penalty(session, ref.entry.body["decision_number"])
        return recorded(get_log(request), penalty, ref.index)

    @r.get(
        "/parties/{party_id}/penalties",
        summary="A party's administrative penalties, newest first",
        response_model=list[Recorded[PenaltyOut]],
        responses=paged_responses(),
    )
    def read_penalties(
        log: LogDep, session: SessionDep, party_id: str, page: PageDep, response: Response
    ) -> Any:
        after = page.after_key(DAY, INT)
        before = None if after is None else (after[0], after[1])
        found = service.party_penalties(session, party_id, before=before, limit=page.fetch)
        penalties = page.keyed(response, found, lambda p: p.decided_on, _index)
        return [recorded(log, p, p.entry_index) for p in penalties]

    @r.post(
        "/complaint-findings",
        status_code=201,
        summary="Record whether a complaint was substantiated (inspector, regulator)",
        response_model=Recorded[FindingBody],
        openapi_extra=write_openapi(FindingBody, FINDING_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def record_finding(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, service.FINDING_TYPE, payload)
        with sessions(request)() as session:
            party_id = service.finding_party(session, ref.entry.body["tracking_number"])
        _recompute(request, party_id)
        return recorded(get_log(request), FindingBody.model_validate(ref.entry.body), ref.index)

    @r.post(
        "/repairs",
        status_code=201,
        summary="Apply for credit repair (信用修复) of one's own penalties (the merchant)",
        response_model=Recorded[RepairOut],
        openapi_extra=write_openapi(RepairApplyBody, REPAIR_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def apply_repair(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        party_id = _body(payload).get("party_id")
        if principal.role is Role.PRODUCER and party_id != principal.party_id:
            raise Problem(
                403,
                "Forbidden",
                f"A merchant applies for credit repair for itself only: expected party_id "
                f"{principal.party_id}.",
                problem_type("forbidden"),
                [FieldProblem("/body/party_id", f"expected {principal.party_id}")],
            )
        ref = write(request, principal, service.REPAIR_APPLY_TYPE, payload)
        with sessions(request)() as session:
            repair = service.get_repair(session, ref.entry.body["application_id"])
        return recorded(get_log(request), repair, ref.index)

    @r.post(
        "/repairs/{application_id}/decision",
        status_code=201,
        summary="Approve or refuse a credit-repair application (regulator); regrades the party",
        response_model=Recorded[RepairOut],
        openapi_extra=write_openapi(RepairDecideBody, DECISION_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def decide_repair(
        request: Request, principal: PrincipalDep, payload: Payload, application_id: str
    ) -> Any:
        if _body(payload).get("application_id") != application_id:
            raise Problem(
                422,
                "Invalid entries",
                "The body names another application than the path.",
                problem_type("invalid-entry"),
                [FieldProblem("/body/application_id", f"expected {application_id}")],
            )
        ref = write(request, principal, service.REPAIR_DECIDE_TYPE, payload)
        with sessions(request)() as session:
            repair = service.get_repair(session, application_id)
        assert repair is not None
        _recompute(request, repair.party_id)
        return recorded(get_log(request), repair, ref.index)

    @r.get(
        "/repairs/{application_id}",
        summary="A credit-repair application and its decision",
        response_model=Recorded[RepairOut],
        responses=problem_responses(404),
    )
    def read_repair(log: LogDep, session: SessionDep, application_id: str) -> Any:
        repair = service.get_repair(session, application_id)
        if repair is None:
            raise not_found(f"Repair application {application_id}")
        return recorded(log, repair, repair.entry_index)

    @r.get(
        "/inspections/schedule",
        summary="Due and overdue inspections per grade policy (inspector, regulator)",
        response_model=list[ScheduleOut],
        responses=paged_responses(401, 403),
    )
    def read_schedule(
        session: SessionDep,
        _: Handler,
        page: PageDep,
        response: Response,
        status: Annotated[DueStatus | None, Query()] = None,
        as_of: AsOf = None,
    ) -> Any:
        after = page.after_key(_due_rank, DAY, TEXT)
        found = planning.schedule(
            session,
            as_of or flows.local_day(),
            status=status,
            after=None if after is None else (after[0], after[1], after[2]),
            limit=page.fetch,
        )
        return page.keyed(response, found, lambda s: s.status, lambda s: s.due_on, _party)

    @r.get(
        "/parties/{party_id}/schedule",
        summary="A party's next due inspection per its grade (inspector, regulator)",
        response_model=ScheduleOut,
        responses=problem_responses(401, 403, 404),
    )
    def read_party_schedule(
        session: SessionDep,
        _: Handler,
        party_id: Annotated[str, Path()],
        as_of: AsOf = None,
    ) -> Any:
        found = planning.schedule(session, as_of or flows.local_day(), party_id=party_id)
        if not found:
            raise not_found(f"A grade of party {party_id}")
        return found[0]

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index


def _due_rank(value: Any) -> int:
    """A token's due status, as its rank in the schedule's order (unknown: refused)."""
    return planning.ORDER[DueStatus(TEXT(value))]


def _party(item: Any) -> str:
    party_id: str = item.party_id
    return party_id

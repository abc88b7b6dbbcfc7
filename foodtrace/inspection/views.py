"""Routes for inspections (the visit, its 双签 acknowledgement, faces) and hand-typed grades."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.config import Settings
from foodtrace.grading.flows import local_day
from foodtrace.inspection import flows, rules, service
from foodtrace.inspection.schemas import (
    ACK_EXAMPLE,
    GRADE_EXAMPLE,
    INSPECTION_EXAMPLE,
    AckBody,
    ConfirmIn,
    FacesOut,
    GradeBody,
    GradeOut,
    InspectionBody,
    InspectionOut,
    InspectionRecordedOut,
)
from foodtrace.record.schemas import Recorded
from foodtrace.record.views import (
    API,
    IndexPath,
    LogDep,
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
WRITE_ERRORS = problem_responses(401, 403, 409, 422)


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["inspections"])

    @r.post(
        "/inspections",
        status_code=201,
        summary="Record a visit (inspector): checklist, result, findings, photos by hash, "
        "corrective actions; answers the one-time code the merchant confirms it by",
        response_model=InspectionRecordedOut,
        openapi_extra=write_openapi(InspectionBody, INSPECTION_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def record_inspection(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        shown, keep = flows.code_keeper()
        ref = write(request, principal, service.RECORD_TYPE, payload, also=keep)
        with sessions(request)() as session:
            inspection = service.get_inspection(session, ref.index)
        return {**recorded(get_log(request), inspection, ref.index), "confirmation": shown}

    @r.post(
        "/inspections/{entry_index}/ack",
        status_code=201,
        summary="The merchant acknowledges a visit with its own key or token (双签)",
        response_model=Recorded[InspectionOut],
        openapi_extra=write_openapi(AckBody, ACK_EXAMPLE),
        responses=WRITE_ERRORS,
    )
    def acknowledge(
        request: Request,
        principal: PrincipalDep,
        payload: Payload,
        entry_index: IndexPath,
    ) -> Any:
        check_path(principal, service.ACK_TYPE, payload, "inspection", entry_index)
        ref = write(request, principal, service.ACK_TYPE, payload)
        with sessions(request)() as session:
            inspection = service.get_inspection(session, entry_index)
        return recorded(get_log(request), inspection, ref.index)

    @r.post(
        "/inspections/{entry_index}/confirm",
        status_code=201,
        summary="The merchant confirms a visit by the one-time code the inspector shows "
        "(no token needed; the platform signs the acknowledgement)",
        response_model=Recorded[InspectionOut],
        responses=problem_responses(404, 409, 422),
    )
    def confirm(request: Request, data: ConfirmIn, entry_index: IndexPath) -> Any:
        try:
            ref = flows.confirm_by_code(
                get_log(request), sessions(request), settings_of(request), entry_index, data.code
            )
        except flows.NoSuchInspection as exc:
            raise not_found(f"Inspection {entry_index}") from exc
        except flows.AlreadyAcknowledged as exc:
            raise Problem(409, "Conflict", str(exc), problem_type("conflict")) from exc
        except rules.CodeRefused as exc:
            raise Problem(
                422,
                "Code refused",
                "Nothing was written",
                problem_type("code-refused"),
                [FieldProblem("/body/code", str(exc))],
            ) from exc
        with sessions(request)() as session:
            inspection = service.get_inspection(session, entry_index)
        return recorded(get_log(request), inspection, ref.index)

    @r.get(
        "/inspections/unacknowledged",
        summary="Visits the merchant has not signed yet (inspector, regulator)",
        response_model=list[InspectionOut],
        responses=paged_responses(401, 403),
    )
    def read_unacknowledged(
        session: SessionDep,
        _: Handler,
        page: PageDep,
        response: Response,
        party_id: Annotated[str | None, Query(max_length=128)] = None,
        inspector: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Any:
        found = service.unacknowledged(
            session,
            party_ids=[party_id] if party_id else None,
            inspector=inspector,
            after=page.after_index(),
            limit=page.fetch,
        )
        return page.keyed(response, found, _index)

    @r.post(
        "/grades",
        status_code=201,
        summary="Set a party's credit grade A/B/C/D by hand (regulator; deprecated: grades "
        "are computed, see /api/v1/grades/recompute and /api/v1/parties/{party_id}/grades)",
        response_model=Recorded[GradeOut],
        deprecated=True,
        openapi_extra=write_openapi(GradeBody, GRADE_EXAMPLE),
    )
    def set_grade(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "grade.set", payload)
        with sessions(request)() as session:
            grades = service.party_grades(session, ref.entry.body["party_id"])
        return recorded(get_log(request), grades[0], ref.index)

    @r.get(
        "/inspections/{entry_index}",
        summary="An inspection record and its proof",
        response_model=Recorded[InspectionOut],
        responses=problem_responses(404),
    )
    def read_inspection(log: LogDep, session: SessionDep, entry_index: IndexPath) -> Any:
        inspection = service.get_inspection(session, entry_index)
        if inspection is None:
            raise not_found(f"Inspection {entry_index}")
        return recorded(log, inspection, entry_index)

    @r.get(
        "/parties/{party_id}/inspections",
        summary="A party's inspection records",
        response_model=list[Recorded[InspectionOut]],
        responses=paged_responses(),
    )
    def read_party_inspections(
        log: LogDep, session: SessionDep, party_id: str, page: PageDep, response: Response
    ) -> Any:
        found = page.keyed(
            response,
            service.party_inspections(
                session, party_id, after=page.after_index(), limit=page.fetch
            ),
            _index,
        )
        return [recorded(log, i, i.entry_index) for i in found]

    @r.get(
        "/parties/{party_id}/inspection-faces",
        summary="A party's 量化分级 faces: the latest visit's and the annual one (12 months)",
        response_model=FacesOut,
    )
    def read_faces(
        session: SessionDep,
        party_id: str,
        as_of: Annotated[date | None, Query(description="default: today (UTC+8)")] = None,
    ) -> Any:
        return service.faces(session, party_id, as_of or local_day())

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index

"""Routes for inspection records and credit grades."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.auth.deps import PrincipalDep
from foodtrace.config import Settings
from foodtrace.inspection import service
from foodtrace.inspection.schemas import (
    GRADE_EXAMPLE,
    INSPECTION_EXAMPLE,
    GradeBody,
    GradeOut,
    InspectionBody,
    InspectionOut,
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
    write,
    write_openapi,
)


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["inspections"])

    @r.post(
        "/inspections",
        status_code=201,
        summary="Record an inspection (inspector)",
        response_model=Recorded[InspectionOut],
        openapi_extra=write_openapi(InspectionBody, INSPECTION_EXAMPLE),
    )
    def record_inspection(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "inspection.record", payload)
        with sessions(request)() as session:
            inspection = service.get_inspection(session, ref.index)
        return recorded(get_log(request), inspection, ref.index)

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
    )
    def read_inspection(
        log: LogDep, session: SessionDep, entry_index: Annotated[int, Path(ge=0)]
    ) -> Any:
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
        found = page.slice(response, service.party_inspections(session, party_id), _index)
        return [recorded(log, i, i.entry_index) for i in found]

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index

"""Routes for test reports and the content-addressed files they (and inspections) name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth.deps import PrincipalDep
from foodtrace.auth.models import Principal
from foodtrace.config import Settings
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
from foodtrace.report import blobs, service, uploads
from foodtrace.report.schemas import REPORT_EXAMPLE, BlobOut, ReportBody, ReportOut

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
BLOB_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG, "application/octet-stream")


def _serve(request: Request, sha256: str, media_type: str) -> Response:
    try:
        data = blobs.get(settings_of(request).data_dir, sha256)
    except FileNotFoundError:
        raise not_found(f"File {sha256}") from None
    except blobs.BlobCorrupted as exc:
        raise Problem(
            500, "Stored file is corrupted", str(exc), problem_type("blob-corrupted")
        ) from exc
    return Response(data, media_type=media_type, headers={"ETag": f'"{sha256}"'})


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["reports"])

    @r.post(
        "/blobs",
        status_code=201,
        summary="Upload a file (report PDF, inspection photo); it is named by its SHA-256",
        description=(
            "Labs upload PDFs (test reports), inspectors JPEG or PNG photos; the type is "
            "read from the bytes. Other roles get 403, a wrong type 415, a file over the "
            "size limit or the party's quota 413. Files no record names are collected "
            "after a grace period (`foodtrace blobs gc`)."
        ),
        response_model=BlobOut,
        responses=problem_responses(401, 403, 413, 415, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in BLOB_TYPES
                },
            }
        },
    )
    async def upload_blob(request: Request, principal: PrincipalDep) -> BlobOut:
        data = await request.body()  # hashing, checking the quota and writing: off the loop
        return await run_in_threadpool(_store_blob, request, principal, data)

    def _store_blob(request: Request, principal: Principal, data: bytes) -> BlobOut:
        with sessions(request)() as session, session.begin():
            try:
                accepted = uploads.accept(
                    session,
                    settings_of(request),
                    principal,
                    data,
                    request.headers.get("content-type"),
                )
            except uploads.UploadRefused as exc:
                raise Problem(
                    exc.status,
                    exc.title,
                    exc.detail,
                    problem_type("upload-refused"),
                    [FieldProblem("/body", exc.detail)],
                ) from exc
        return BlobOut(sha256=accepted.sha256, size=accepted.size)

    @r.get(
        "/blobs/{sha256}",
        summary="A stored file, re-hashed before it is served",
        response_class=Response,
        responses={**problem_responses(404), 200: {"content": {"application/octet-stream": {}}}},
    )
    def read_blob(request: Request, sha256: Sha256Path) -> Response:
        return _serve(request, sha256, "application/octet-stream")

    @r.post(
        "/reports",
        status_code=201,
        summary="Record a signed test report (lab); upload its PDF to /blobs first",
        description=(
            "A report about a lot is refused with 403 naming `/body/subject` and who holds "
            "the lot unless the lot's holder, or an inspector, recorded sending this lab a "
            "sample of it (an EPCIS `sampling` event naming the lab as a destination) by the "
            "end of `tested_on`; 409 for a report number already recorded, 422 for an "
            "invalid body or an unknown lot or party."
        ),
        response_model=Recorded[ReportOut],
        responses=problem_responses(401, 403, 409, 422),
        openapi_extra=write_openapi(ReportBody, REPORT_EXAMPLE),
    )
    def issue_report(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        signed = isinstance(payload.get("entry"), dict)
        body = payload["entry"].get("body") if signed else payload
        digest = body.get("pdf_sha256") if isinstance(body, dict) else None
        where = "/body/entry/body/pdf_sha256" if signed else "/body/pdf_sha256"
        if (
            isinstance(digest, str)
            and blobs.SHA256_HEX.match(digest)
            and not uploads.is_pdf(settings_of(request).data_dir, digest)
        ):
            raise Problem(
                422,
                "Invalid entries",
                "Nothing was written: the PDF was not uploaded",  # or the file is no PDF
                problem_type("invalid-entry"),
                [FieldProblem(where, "expected the SHA-256 of a PDF uploaded to /blobs")],
            )
        ref = write(request, principal, "report.issue", payload)
        with sessions(request)() as session:
            report = service.get_report(session, ref.entry.body["report_number"])
        return recorded(get_log(request), report, ref.index)

    @r.get(
        "/reports/{report_number}",
        summary="A test report and its proof",
        response_model=Recorded[ReportOut],
        responses=problem_responses(404),
    )
    def read_report(
        log: LogDep,
        session: SessionDep,
        report_number: Annotated[str, Path(examples=["SHJC-2026-000123"])],
    ) -> Any:
        report = service.get_report(session, report_number)
        if report is None:
            raise not_found(f"Report {report_number}")
        return recorded(log, report, report.entry_index)

    @r.get(
        "/reports/{report_number}/pdf",
        summary="A report's PDF, served only if it still matches the SHA-256 in the entry",
        response_class=Response,
        responses={**problem_responses(404), 200: {"content": {"application/pdf": {}}}},
    )
    def read_report_pdf(request: Request, session: SessionDep, report_number: str) -> Response:
        report = service.get_report(session, report_number)
        if report is None:
            raise not_found(f"Report {report_number}")
        return _serve(request, report.pdf_sha256, "application/pdf")

    @r.get(
        "/lots/{gtin}/{lot_code}/reports",
        summary="Test reports about a lot",
        response_model=list[Recorded[ReportOut]],
        responses=paged_responses(),
    )
    def read_lot_reports(
        log: LogDep,
        session: SessionDep,
        gtin: str,
        lot_code: str,
        page: PageDep,
        response: Response,
    ) -> Any:
        reports = page.keyed(
            response,
            service.reports_about_lot(
                session, gtin, lot_code, after=page.after_index(), limit=page.fetch
            ),
            _index,
        )
        return [recorded(log, rep, rep.entry_index) for rep in reports]

    @r.get(
        "/parties/{party_id}/reports",
        summary="Test reports about a shop or site",
        response_model=list[Recorded[ReportOut]],
        responses=paged_responses(),
    )
    def read_party_reports(
        log: LogDep, session: SessionDep, party_id: str, page: PageDep, response: Response
    ) -> Any:
        reports = page.keyed(
            response,
            service.reports_about_party(
                session, party_id, after=page.after_index(), limit=page.fetch
            ),
            _index,
        )
        return [recorded(log, rep, rep.entry_index) for rep in reports]

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index

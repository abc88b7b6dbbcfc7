"""FSMA 204 sortable spreadsheets of a lot, or of every lot over a date range (public: the
same events are readable through the EPCIS query interface)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from foodtrace.api.app import SessionDep
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.config import Settings
from foodtrace.fsma import service, sheet
from foodtrace.record.views import API, not_found

Format = Literal["csv", "xlsx"]
MEDIA = {"csv": sheet.CSV_TYPE, "xlsx": sheet.XLSX_TYPE}
SHEET_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The sortable spreadsheet, one row per KDE set of each CTE",
        "content": {sheet.CSV_TYPE: {}, sheet.XLSX_TYPE: {}},
    }
}
Start = Annotated[date | None, Query(description="First event date included (YYYY-MM-DD)")]
End = Annotated[date | None, Query(description="Last event date included (YYYY-MM-DD)")]


def _answer(rows: list[dict[str, Any]], fmt: Format, name: str) -> Response:
    content = sheet.to_csv(rows) if fmt == "csv" else sheet.to_xlsx(rows)
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise Problem(
            422,
            "Invalid date range",
            f"end ({end}) is before start ({start})",
            problem_type("invalid-query"),
            [FieldProblem("/query/end", f"expected a date on or after {start}")],
        )


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["fsma204"])

    @r.get(
        "/lots/{gtin}/{lot_code}/fsma204.{fmt}",
        summary="FSMA 204 sortable spreadsheet of a lot (CSV or XLSX)",
        response_class=Response,
        responses={**SHEET_RESPONSES, **problem_responses(404, 422)},
    )
    def lot_sheet(
        session: SessionDep,
        gtin: Annotated[str, Path(pattern=r"^\d{8,14}$", examples=["06901234567892"])],
        lot_code: Annotated[str, Path(examples=["20260301A"])],
        fmt: Format,
        start: Start = None,
        end: End = None,
        upstream: Annotated[
            bool, Query(description="Also the lots it was made from (its upstream trace)")
        ] = False,
    ) -> Response:
        _check_range(start, end)
        rows = service.lot_rows(session, gtin, lot_code, start, end, upstream=upstream)
        if rows is None:
            raise not_found(f"Lot {lot_code} of {gtin}")
        return _answer(rows, fmt, f"fsma204-{gtin.zfill(14)}-{lot_code}")

    @r.get(
        "/fsma204.{fmt}",
        summary="FSMA 204 sortable spreadsheet of every lot's events in a date range",
        response_class=Response,
        responses={**SHEET_RESPONSES, **problem_responses(422)},
    )
    def range_sheet(
        session: SessionDep,
        fmt: Format,
        start: Annotated[date, Query(description="First event date included (YYYY-MM-DD)")],
        end: Annotated[date, Query(description="Last event date included (YYYY-MM-DD)")],
    ) -> Response:
        _check_range(start, end)
        try:
            rows = service.range_rows(session, start, end)
        except service.RangeTooLarge as exc:
            raise Problem(
                422,
                "Date range too large",
                str(exc),
                problem_type("invalid-query"),
                [FieldProblem("/query/start", str(exc))],
            ) from exc
        return _answer(rows, fmt, f"fsma204-{start}-{end}")

    return r

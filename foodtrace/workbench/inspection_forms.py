"""The work behind the workbench's inspection forms (run in the thread pool): photos through
the blob upload rules, the visit through the write path with its one-time code, the
merchant's confirmation by code."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from foodtrace.api.problems import FieldProblem, Problem
from foodtrace.auth.models import Principal
from foodtrace.grading.flows import local_day
from foodtrace.inspection import flows as visits
from foodtrace.inspection import rules
from foodtrace.inspection import service as inspections
from foodtrace.record.views import get_log, sessions, settings_of, write
from foodtrace.report import uploads
from foodtrace.workbench import access, forms, pages
from foodtrace.workbench.web import (
    Visitor,
    page,
)


def inspect(
    request: Request, v: Visitor, principal: Principal, fields: dict[str, str], photos: list[bytes]
) -> Response:
    party_id = fields.get("party_id", "")[:128]
    settings = settings_of(request)

    def again(problems: list[FieldProblem], status: int) -> Response:
        return page(
            request,
            v,
            "inspect.html",
            status,
            party_id=party_id,
            checklist=forms.CHECKLIST,
            form=fields,
            problems=problems,
        )

    with sessions(request)() as db:
        try:
            access.check_business(db, principal, party_id)
        except access.OutOfScope as exc:
            return page(request, v, "refused.html", 403, title="无权检查", detail=str(exc))
    body, problems = forms.inspection_body(fields, [], local_day())
    if problems:
        return again(problems, 422)
    hashes = []
    for n, data in enumerate(photos):
        try:
            with sessions(request)() as db, db.begin():
                accepted = uploads.accept(db, settings, principal, data, None)
        except uploads.UploadRefused as exc:
            return again([FieldProblem(f"/form/photos/{n}", exc.detail)], exc.status)
        hashes.append(accepted.sha256)
    body["photos"] = hashes
    shown, keep = visits.code_keeper()
    try:
        ref = write(request, principal, inspections.RECORD_TYPE, body, also=keep)
    except Problem as exc:
        moved = [
            FieldProblem(forms.entry_pointer_to_form(p.pointer), p.detail)
            for p in pages.problems_of(exc)
        ]
        return again(moved, exc.status)
    with sessions(request)() as db:
        visit = inspections.get_inspection(db, ref.index)
    return page(request, v, "visit.html", visit=visit, code=shown)


def confirm_visit(request: Request, v: Visitor, index: int, code: str) -> Response:
    def again(status: int, error: str) -> Response:
        return page(request, v, "confirm.html", status, index=index, done=False, error=error)

    if len(code) != 6 or not code.isdigit():
        return again(422, "请输入检查员出示的6位数字确认码。")
    try:
        visits.confirm_by_code(
            get_log(request), sessions(request), settings_of(request), index, code
        )
    except visits.NoSuchInspection:
        return again(404, "没有这次检查。")
    except visits.AlreadyAcknowledged:
        return again(409, "这次检查已经确认过了。")
    except rules.CodeRefused as exc:
        return again(422, f"确认码不正确或已失效:{exc}")
    return page(request, v, "confirm.html", index=index, done=True)

"""扫街纳管: registering a small business found on the street (三小场所), with where it was
found and a photo of its shopfront, and printing its 食安码 on the spot.

A ``party.register`` is a regulator's entry, so only a regulator's session may register. The
registration, the business's ``grid.assign`` to one of the regulator's grids and its one-time
enrolment code are one logged group (:func:`foodtrace.party.registration.register`, as the
API's ``POST /api/v1/parties``): stored together or not at all, so a failure can no longer
leave a registered business in no grid or without its code. The position is the entry's
``position`` (not part of the address, which the public merchant page shows); the photo is
uploaded under the shopfront-photo rule (:data:`foodtrace.report.uploads.SHOPFRONT_PHOTO_UPLOADERS`,
counted in the regulator's quota) and named by its SHA-256 in the entry. Its merchant code
is served as a PNG label.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from foodtrace.api.problems import FieldProblem, Problem, problem_responses
from foodtrace.auth.models import Principal, Role
from foodtrace.auth.views import logger_of, problems
from foodtrace.grid.models import GridMember
from foodtrace.grid.service import ASSIGN_TYPE
from foodtrace.labels import service as labels
from foodtrace.party import registration
from foodtrace.party import service as parties
from foodtrace.party.models import Party
from foodtrace.record.views import entry_of, get_log, sessions, settings_of
from foodtrace.report import uploads
from foodtrace.store.models import LogEntry
from foodtrace.trace.codes import merchant_code
from foodtrace.workbench import access, pages
from foodtrace.workbench.pages import HTML, INVALID, TO_LOGIN
from foodtrace.workbench.street_forms import SMALL, form_pointer, registration_body
from foodtrace.workbench.web import Visitor, csrf_ok, csrf_refused, page, visitor

PNG_LABEL: Final[dict[str, Any]] = {"content": {"image/png": {}}, "description": "the label"}
TOO_LARGE: Final[dict[str, Any]] = {
    "description": "a photo over the size limit or the quota (the page again), or a request "
    "body over the server's limit (problem+json)",
    "content": {"text/html": {}, **problem_responses(413)[413]["content"]},
}
RECENT: Final = 10
"""How many of the latest registrations in the regulator's grids the form lists."""


def router(_: Any) -> APIRouter:
    r = APIRouter(prefix=pages.PREFIX, tags=["workbench"])

    def regulator(request: Request, v: Visitor) -> Response | None:
        if v.principal is None:
            return Response(status_code=303, headers={"Location": f"{pages.PREFIX}/login"})
        if v.principal.role is not Role.REGULATOR:
            return page(
                request, v, "refused.html", 403, title="无权登记",
                detail="登记经营主体(party.register)需要监管人员账号。",
            )  # fmt: skip
        return None

    @r.get(
        "/street",
        summary="扫街纳管: the form to register a small business found on the street, and "
        "the latest ones registered in my grids with their position and photo",
        responses={200: HTML, 303: TO_LOGIN, 403: HTML},
    )
    def street_form(request: Request) -> Response:
        v = visitor(request)
        if (refused := regulator(request, v)) is not None:
            return refused
        return _form(request, v, {}, [], 200)

    @r.post(
        "/street",
        summary="扫街纳管: register the business with its position and shopfront photo, "
        "assign it to a grid and show its 食安码, as one logged group",
        responses={
            200: HTML,
            303: TO_LOGIN,
            403: HTML,
            409: HTML,
            413: TOO_LARGE,
            415: HTML,
            422: INVALID,
            **problem_responses(503, 507),
        },
    )
    async def street_register(request: Request) -> Response:
        v = visitor(request)
        form = await request.form(max_files=1, max_fields=10)
        if not csrf_ok(request, v, form):
            return csrf_refused(request, v)
        if (refused := regulator(request, v)) is not None:
            return refused
        fields = {k: x[:300] for k, x in form.multi_items() if isinstance(x, str)}
        upload = form.get("photo")
        photo = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
        assert v.principal is not None
        return await run_in_threadpool(_register, request, v, v.principal, fields, photo)

    @r.get(
        "/street/{party_id}/label.png",
        summary="A registered business's 食安码 label (regulator)",
        response_class=Response,
        responses={200: PNG_LABEL, 303: TO_LOGIN, 403: HTML, 404: HTML, 422: INVALID},
    )
    def label(request: Request, party_id: str) -> Response:
        v = visitor(request)
        if (refused := regulator(request, v)) is not None:
            return refused
        with sessions(request)() as db:
            party = parties.get_party(db, party_id[:128])
        if party is None:
            return page(
                request, v, "refused.html", 404, title="未找到", detail="没有这个经营主体。"
            )
        settings = settings_of(request)
        code = merchant_code(
            settings.public_base_url, party.credit_code, labels.authority_key(settings)
        )
        png = labels.render(code, labels.ImageFormat.PNG, caption=party.name)
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    return r


def _form(
    request: Request, v: Visitor, form: dict[str, str], found: list[FieldProblem], status: int
) -> Response:
    assert v.principal is not None
    with sessions(request)() as db:
        mine = access.my_grids(db, v.principal)
        recent = [
            (row, registration.particulars(row.data))
            for row in db.execute(
                select(Party.party_id, Party.name, Party.address, GridMember.grid_id, LogEntry.data)
                .join(GridMember, GridMember.party_id == Party.party_id)
                .join(LogEntry, LogEntry.leaf_index == Party.entry_index)
                .where(GridMember.grid_id.in_([g.grid_id for g in mine]))
                .order_by(Party.entry_index.desc())
                .limit(RECENT)
            )
        ]
    return page(
        request, v, "street.html", status, form=form, grids=mine, small=SMALL, problems=found,
        recent=recent,
    )  # fmt: skip


def _register(
    request: Request,
    v: Visitor,
    principal: Principal,
    fields: dict[str, str],
    photo: bytes | None,
) -> Response:
    with sessions(request)() as db:
        mine = {g.grid_id for g in access.my_grids(db, principal)}
    body, found = registration_body(fields, mine)
    if found:
        return _form(request, v, fields, found, 422)
    if photo is not None:
        try:
            with sessions(request)() as db, db.begin():
                stored = uploads.accept(
                    db, settings_of(request), principal, photo, None,
                    uploaders=uploads.SHOPFRONT_PHOTO_UPLOADERS,
                )  # fmt: skip
        except uploads.UploadRefused as exc:
            return _form(request, v, fields, [FieldProblem("/form/photo", exc.detail)], exc.status)
        body["shopfront_photo"] = stored.sha256
    assign = {"grid_id": body["grid"], "party_ids": [body["party_id"]]}
    try:
        entry, base = entry_of(request, principal, registration.ENTRY_TYPE, body)
        assigned, _ = entry_of(request, principal, ASSIGN_TYPE, assign)
        with problems():
            done = registration.register(
                get_log(request), sessions(request), logger_of(request), principal, entry, base,
                with_entries=[assigned],
            )  # fmt: skip
    except Problem as exc:
        if exc.status >= 500:  # not the form's fault: answered as the storage errors are
            raise
        moved = [FieldProblem(form_pointer(p.pointer), p.detail) for p in pages.problems_of(exc)]
        return _form(request, v, fields, moved, exc.status)
    return page(
        request, v, "street_done.html", party_id=body["party_id"], shop=body["name"],
        index=done.ref.index, enrolment=done.code, position=body.get("position"),
        photo=body.get("shopfront_photo"),
    )  # fmt: skip

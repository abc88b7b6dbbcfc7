"""扫街纳管: registering a small business found on the street (三小场所) and printing its
食安码 on the spot.

A ``party.register`` is a regulator's entry, so only a regulator's session may register; the
registration goes through the write path the API's ``POST /api/v1/parties`` uses, then the
business is assigned to one of the regulator's grids (``grid.assign``) and gets its one-time
enrolment code (:func:`foodtrace.auth.flows.issue_code`, as the API does). Its merchant code
is served as a PNG label. The location is kept in the registered address (the entry has no
field for coordinates). Photos are not taken: regulators may not upload files
(:data:`foodtrace.report.uploads.UPLOADERS`) and ``party.register`` names none.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from foodtrace.api.problems import FieldProblem, Problem
from foodtrace.auth import flows as auth_flows
from foodtrace.auth.models import Principal, Role
from foodtrace.auth.views import logger_of
from foodtrace.labels import service as labels
from foodtrace.party import service as parties
from foodtrace.record.views import sessions, settings_of, write
from foodtrace.trace.codes import merchant_code
from foodtrace.workbench import access, pages
from foodtrace.workbench.pages import HTML, INVALID, TO_LOGIN
from foodtrace.workbench.web import Visitor, csrf_ok, csrf_refused, page, visitor

SMALL: Final = {"小餐饮": "restaurant", "小食杂": "retailer", "小作坊": "processor"}
PNG_LABEL: Final[dict[str, Any]] = {"content": {"image/png": {}}, "description": "the label"}


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
        summary="扫街纳管: the form to register a small business found on the street",
        responses={200: HTML, 303: TO_LOGIN, 403: HTML},
    )
    def street_form(request: Request) -> Response:
        v = visitor(request)
        if (refused := regulator(request, v)) is not None:
            return refused
        return _form(request, v, {}, [], 200)

    @r.post(
        "/street",
        summary="扫街纳管: register the business, assign it to a grid, show its 食安码",
        responses={200: HTML, 303: TO_LOGIN, 403: HTML, 409: HTML, 422: INVALID},
    )
    async def street_register(request: Request) -> Response:
        v = visitor(request)
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request, v, form):
            return csrf_refused(request, v)
        if (refused := regulator(request, v)) is not None:
            return refused
        fields = {k: x[:300] for k, x in form.multi_items() if isinstance(x, str)}
        assert v.principal is not None
        return await run_in_threadpool(_register, request, v, v.principal, fields)

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
    request: Request, v: Visitor, form: dict[str, str], problems: list[FieldProblem], status: int
) -> Response:
    assert v.principal is not None
    with sessions(request)() as db:
        mine = access.my_grids(db, v.principal)
    return page(
        request, v, "street.html", status, form=form, grids=mine, small=SMALL, problems=problems
    )


def _register(
    request: Request, v: Visitor, principal: Principal, fields: dict[str, str]
) -> Response:
    problems = []
    kind = SMALL.get(fields.get("small", ""))
    if kind is None:
        problems.append(FieldProblem("/form/small", "choose 小餐饮, 小食杂 or 小作坊"))
    location = ""
    try:
        lat, lng = float(fields.get("lat", "")), float(fields.get("lng", ""))
    except ValueError:
        problems.append(FieldProblem("/form/lat", "expected the latitude and longitude"))
    else:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            problems.append(FieldProblem("/form/lat", "expected a latitude and longitude"))
        location = f"(北纬{lat:.5f},东经{lng:.5f})"
    grid_id = fields.get("grid_id", "")
    with sessions(request)() as db:
        if grid_id not in {g.grid_id for g in access.my_grids(db, principal)}:
            problems.append(FieldProblem("/form/grid_id", "choose one of your grids"))
    if problems:
        return _form(request, v, fields, problems, 422)
    code = fields.get("credit_code", "").strip().upper()
    body = {
        "party_id": code,
        "name": fields.get("name", "").strip(),
        "kind": kind,
        "credit_code": code,
        "grid": grid_id,
        "address": (fields.get("address", "").strip() + location)[:300],
    }
    try:
        ref = write(request, principal, "party.register", body)
        write(request, principal, "grid.assign", {"grid_id": grid_id, "party_ids": [code]})
    except Problem as exc:
        found = [
            FieldProblem(
                "/form" + p.pointer[len("/body") :] if p.pointer.startswith("/body") else p.pointer,
                p.detail,
            )
            for p in pages.problems_of(exc)
        ]
        return _form(request, v, fields, found, exc.status)
    enrolment = auth_flows.issue_code(logger_of(request), principal, code)
    return page(
        request, v, "street_done.html", party_id=code, shop=body["name"], index=ref.index,
        enrolment=enrolment,
    )  # fmt: skip

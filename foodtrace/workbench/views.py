"""The workbench's routes: login, logout and the pages, each action through the same
services and write path as the API (:func:`foodtrace.record.views.write`), checked against
the logged-in party's role and grid (:mod:`foodtrace.workbench.access`).

Every POST checks the form's CSRF token (bound to the session, or to the anonymous cookie
before login) before it reads or writes anything else: a missing or wrong token is 403.
Forms are parsed on the event loop (python-multipart streams them); the work runs in the
thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from foodtrace.alert import service as alerts
from foodtrace.alert.gather import inspection_alerts
from foodtrace.api.problems import FieldProblem
from foodtrace.auth.service import authenticate_request
from foodtrace.complaint.limits import RateLimiter
from foodtrace.config import Settings
from foodtrace.draw import service as draws
from foodtrace.grading.flows import local_day
from foodtrace.grid import service as grids
from foodtrace.inspection import service as inspections
from foodtrace.recall import service as recalls
from foodtrace.record.views import get_log, sessions, settings_of
from foodtrace.workbench import access, complaint_forms, forms, inspection_forms, pages
from foodtrace.workbench import session as wb
from foodtrace.workbench.pagecache import CSRF_MARK, PageCache, kept_part, planned
from foodtrace.workbench.pages import DONE, HTML, INVALID, PREFIX, TO_LOGIN
from foodtrace.workbench.web import (
    Visitor,
    csrf_ok,
    csrf_refused,
    now,
    page,
    secure,
    signed_in_form,
    text_fields,
    to_login,
    visitor,
)

MAX_TOKEN_CHARS = 100
STRANGER_POSTS_PER_MINUTE = 30
"""Login and merchant-confirmation attempts per client address (no session yet)."""
PAGE: dict[int | str, dict[str, Any]] = {200: HTML, 303: TO_LOGIN}
COMPLAINT_FORM: dict[int | str, dict[str, Any]] = {403: HTML, 404: HTML, 409: HTML, 422: INVALID}
FORM: dict[int | str, dict[str, Any]] = {
    303: DONE,
    403: HTML,
    404: HTML,
    409: HTML,
    413: HTML,
    415: HTML,
    422: INVALID,
}


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["workbench"], default_response_class=HTMLResponse)
    limiter = RateLimiter(STRANGER_POSTS_PER_MINUTE)
    kept: PageCache[str] = PageCache()  # one per app: two apps may share a log size
    parts: PageCache[Any] = PageCache()  # of one grid's: its schedule, its inspection alerts

    def too_many(request: Request, v: Visitor) -> Response | None:
        wait = limiter.allow(request.client.host if request.client else "unknown")
        if wait is None:
            return None
        response = page(
            request, v, "refused.html", 429, title="请求过于频繁", detail="请稍后再试。"
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response

    @r.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in pages.STATIC:
            return Response(status_code=404)
        return Response(
            pages.static_file(name),
            media_type=pages.STATIC[name],
            headers={"Cache-Control": "public, max-age=3600"},
        )

    # --- login -------------------------------------------------------------------------

    @r.get("/login", summary="The workbench's login form", responses={200: HTML})
    def login_form(request: Request) -> Response:
        return page(request, visitor(request), "login.html")

    @r.post(
        "/login",
        summary="Exchange an inspector's or regulator's API token for a session cookie",
        status_code=303,
        response_class=Response,
        responses={303: DONE, 401: HTML, 403: HTML, 429: HTML},
    )
    async def login(request: Request) -> Response:
        v = visitor(request)
        if (refused := too_many(request, v)) is not None:
            return refused
        form = await request.form(max_files=0, max_fields=4)
        if not csrf_ok(request, v, form):
            return csrf_refused(request, v)
        token = form.get("token")
        token = token.strip() if isinstance(token, str) else ""
        if not token or len(token) > MAX_TOKEN_CHARS:
            principal = None
        else:
            principal = await run_in_threadpool(
                authenticate_request, request.app.state.sessions, token
            )
        if principal is None:
            return page(request, v, "login.html", 401, error="令牌无效、已过期或已吊销。")
        if principal.role not in access.WORKBENCH_ROLES:
            return page(request, v, "login.html", 403, error="只有检查员和监管人员可以登录工作台。")
        key = access.secret(settings_of(request))
        _, cookie = wb.open_session(
            key, principal.party_id, principal.role.value, principal.token_id, now()
        )
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.set_cookie(
            access.SESSION_COOKIE,
            cookie,
            max_age=int(wb.SESSION_TTL.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=secure(settings_of(request)),
            path=PREFIX,
        )
        return response

    @r.post(
        "/logout",
        summary="End the workbench session",
        status_code=303,
        response_class=Response,
        responses={303: DONE, 403: HTML},
    )
    async def logout(request: Request) -> Response:
        v = visitor(request)
        form = await request.form(max_files=0, max_fields=2)
        if not csrf_ok(request, v, form):
            return csrf_refused(request, v)
        key = access.secret(settings_of(request))
        s = wb.read_session(key, request.cookies.get(access.SESSION_COOKIE), now())
        if s is not None:
            await run_in_threadpool(access.end_session, sessions(request), s, now())
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(access.SESSION_COOKIE, path=PREFIX)
        return response

    # --- pages ---------------------------------------------------------------------------

    @r.get("/", summary="My grid's businesses with grades and 量化分级 faces", responses=PAGE)
    def home(request: Request) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        me, today = v.principal, local_day()

        def build() -> str:
            with sessions(request)() as db:
                mine = access.my_grids(db, me)
                listed = [(g, grids.businesses(db, g.grid_id, today)) for g in mine]
            return pages.html("home.html", csrf=CSRF_MARK, me=me, grids=listed)

        # every row of this page is projected from the log, and its only clock is the day
        found = kept.page(("home.html", me.party_id, me.role, today), get_log(request).size, build)
        return HTMLResponse(found.replace(CSRF_MARK, v.csrf))

    @r.get("/alerts", summary="Alerts of my grids' businesses", responses=PAGE)
    def alert_page(request: Request) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        with sessions(request)() as db:
            mine = access.my_grids(db, v.principal)
            ids = [g.grid_id for g in mine]  # gathered once, for my grids' businesses only
            found = alerts.list_alerts(
                db,
                settings_of(request),
                now(),
                grid_ids=ids,
                inspections=kept_part(parts, get_log(request).size, "alerts", inspection_alerts),
            )
            listed = [(g, [a for a in found if a.grid_id == g.grid_id]) for g in mine]
        return page(request, v, "alerts.html", grids=listed)

    @r.get(
        "/schedule",
        summary="Today's schedule (due and overdue visits of my grids) and the 双随机 draws",
        responses=PAGE,
    )
    def schedule_page(request: Request) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        today = local_day()
        with sessions(request)() as db:
            ids = grids.members_of(db, [g.grid_id for g in access.my_grids(db, v.principal)])
            plan = kept_part(parts, get_log(request).size, "schedule", planned)(db, today, ids)
            due = [item for item in plan if item.status != "scheduled"]
            published = draws.list_draws(db)[:5]
        return page(request, v, "schedule.html", due=due, draws=published, today=today)

    @r.get(
        "/trace",
        summary="Trace a lot (links into the trace views) and the recall cases",
        responses=PAGE,
    )
    def trace_page(request: Request) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        with sessions(request)() as db:
            cases = recalls.list_cases(db, now(), recalls.calendar(settings_of(request)), limit=20)
        return page(request, v, "trace.html", cases=cases)

    @r.get(
        "/trace/lot",
        summary="Go to a lot's trace (the provenance view) from the trace form",
        responses={303: DONE, 422: INVALID},
    )
    def trace_lot(request: Request, gtin: str = "", lot: str = "") -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        problems = []
        if not (gtin.isdigit() and len(gtin) in (8, 12, 13, 14)):
            problems.append(
                FieldProblem("/query/gtin", "expected a GTIN of 8, 12, 13 or 14 digits")
            )
        if not 1 <= len(lot) <= 20:
            problems.append(FieldProblem("/query/lot", "expected a lot code of 1 to 20 characters"))
        if problems:
            with sessions(request)() as db:
                cases = recalls.list_cases(
                    db, now(), recalls.calendar(settings_of(request)), limit=20
                )
            return page(request, v, "trace.html", 422, cases=cases, problems=problems)
        path = f"/api/v1/lots/{quote(gtin, safe='')}/{quote(lot, safe='')}/trace"
        return RedirectResponse(path, status_code=303)

    @r.get("/complaints", summary="Complaints routed to my grids", responses=PAGE)
    def complaint_page(request: Request) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        return page(
            request, v, "complaints.html", items=complaint_forms.routed(request, v.principal)
        )

    @r.post(
        "/complaints/{tracking_number}/answer",
        summary="Record the response or the feedback to a complaint of my grid",
        status_code=303,
        response_class=Response,
        responses={303: DONE, **COMPLAINT_FORM},
    )
    async def answer(
        request: Request, tracking_number: Annotated[str, Path(max_length=24)]
    ) -> Response:
        signed = await signed_in_form(request, max_fields=4)
        if isinstance(signed, Response):
            return signed
        v, principal, fields = signed
        return await run_in_threadpool(
            complaint_forms.answer, request, v, principal, tracking_number, fields
        )

    @r.post(
        "/complaints/{tracking_number}/confirm",
        summary="Confirm, as the grid's officer or grid worker, that a complaint was handled",
        status_code=303,
        response_class=Response,
        responses={303: DONE, **COMPLAINT_FORM},
    )
    async def confirm_complaint(
        request: Request, tracking_number: Annotated[str, Path(max_length=24)]
    ) -> Response:
        signed = await signed_in_form(request, max_fields=2)
        if isinstance(signed, Response):
            return signed
        v, principal, _ = signed
        return await run_in_threadpool(
            complaint_forms.confirm, request, v, principal, tracking_number
        )

    @r.get(
        "/inspections/new",
        summary="The inspection form for a business of my grid",
        responses={**PAGE, 403: HTML},
    )
    def inspection_form(request: Request, party_id: str = "") -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        with sessions(request)() as db:
            try:
                access.check_business(db, v.principal, party_id[:128])
            except access.OutOfScope as exc:
                return page(request, v, "refused.html", 403, title="无权检查", detail=str(exc))
        return page(
            request, v, "inspect.html", party_id=party_id, checklist=forms.CHECKLIST, form={}
        )

    @r.post(
        "/inspections",
        summary="Record a visit with photos; shows the one-time code the merchant confirms",
        responses={200: HTML, **FORM},
    )
    async def record_inspection(request: Request) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        form = await request.form(max_files=forms.MAX_PHOTOS, max_fields=20)
        if not csrf_ok(request, v, form):
            return csrf_refused(request, v)
        fields = text_fields(form)
        photos = [
            await f.read()
            for f in form.getlist("photos")
            if isinstance(f, UploadFile) and f.filename
        ]
        return await run_in_threadpool(
            inspection_forms.inspect, request, v, v.principal, fields, photos
        )

    @r.get(
        "/inspections/{entry_index}",
        summary="A visit's state: recorded, and whether the merchant confirmed it (双签)",
        responses={**PAGE, 403: HTML, 404: HTML, 422: INVALID},
    )
    def inspection_page(request: Request, entry_index: Annotated[int, Path(ge=0)]) -> Response:
        v = visitor(request)
        if v.principal is None:
            return to_login()
        with sessions(request)() as db:
            visit = inspections.get_inspection(db, entry_index)
            if visit is None:
                return page(
                    request, v, "refused.html", 404, title="未找到", detail="没有这次检查。"
                )
            try:
                access.check_business(db, v.principal, visit.party_id)
            except access.OutOfScope as exc:
                return page(request, v, "refused.html", 403, title="无权查看", detail=str(exc))
        return page(request, v, "visit.html", visit=visit, code=None)

    # --- the merchant's confirmation (no login: the code is the proof) --------------------

    @r.get(
        "/confirm/{entry_index}",
        summary="The merchant's page to confirm a visit by the inspector's one-time code",
        responses={200: HTML, 422: INVALID},
    )
    def confirm_form(request: Request, entry_index: Annotated[int, Path(ge=0)]) -> Response:
        v = visitor(request)
        return page(request, v, "confirm.html", index=entry_index, done=False)

    @r.post(
        "/confirm/{entry_index}",
        summary="The merchant confirms a visit by its one-time code (the second of 双签)",
        responses={200: HTML, 403: HTML, 404: HTML, 409: HTML, 422: INVALID, 429: HTML},
    )
    async def confirm_visit(request: Request, entry_index: Annotated[int, Path(ge=0)]) -> Response:
        v = visitor(request)
        if (refused := too_many(request, v)) is not None:
            return refused
        form = await request.form(max_files=0, max_fields=2)
        if not csrf_ok(request, v, form):
            return csrf_refused(request, v)
        code = form.get("code")
        code = code.strip() if isinstance(code, str) else ""
        return await run_in_threadpool(
            inspection_forms.confirm_visit, request, v, entry_index, code
        )

    return r

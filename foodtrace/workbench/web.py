"""What every workbench route needs: who the visitor is (session or anonymous nonce), its
CSRF check, and rendering a page with the CSRF field and, when new, the anonymous cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from foodtrace.auth.models import Principal
from foodtrace.config import Settings
from foodtrace.record.views import sessions, settings_of
from foodtrace.workbench import access
from foodtrace.workbench import session as wb
from foodtrace.workbench.pages import PREFIX, render


@dataclass(frozen=True)
class Visitor:
    """Who sent a request: the principal (None before login) and the nonce its forms'
    CSRF tokens are bound to; ``set_cookie`` is a new anonymous cookie to send, if any."""

    principal: Principal | None
    nonce: str
    csrf: str
    set_cookie: str | None = None


def now() -> datetime:
    return datetime.now(UTC)


def secure(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def visitor(request: Request) -> Visitor:
    settings = settings_of(request)
    key = access.secret(settings)
    s = wb.read_session(key, request.cookies.get(access.SESSION_COOKIE), now())
    principal = access.principal_of(sessions(request), s, now())
    if principal is not None and s is not None:
        return Visitor(principal, s.nonce, wb.csrf_token(key, s.nonce))
    nonce = wb.anonymous(key, request.cookies.get(access.ANON_COOKIE))
    if nonce is not None:
        return Visitor(None, nonce, wb.csrf_token(key, nonce))
    nonce, cookie = wb.new_anonymous(key)
    return Visitor(None, nonce, wb.csrf_token(key, nonce), cookie)


def with_cookie(response: Response, request: Request, v: Visitor) -> Response:
    if v.set_cookie is not None:
        response.set_cookie(
            access.ANON_COOKIE,
            v.set_cookie,
            httponly=True,
            samesite="strict",
            secure=secure(settings_of(request)),
            path=PREFIX,
        )
    return response


def page(request: Request, v: Visitor, name: str, status: int = 200, **ctx: Any) -> Response:
    return with_cookie(render(name, status, csrf=v.csrf, me=v.principal, **ctx), request, v)


def to_login() -> Response:
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


def csrf_ok(request: Request, v: Visitor, form: FormData) -> bool:
    token = form.get("csrf")
    return wb.csrf_ok(
        access.secret(settings_of(request)), v.nonce, token if isinstance(token, str) else None
    )


def text_fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def csrf_refused(request: Request, v: Visitor) -> Response:
    return page(
        request,
        v,
        "refused.html",
        403,
        title="请求被拒绝",
        detail="表单已过期或来源不明(CSRF 校验失败),请刷新页面后重试。",
    )


async def signed_in_form(
    request: Request, *, max_fields: int
) -> tuple[Visitor, Principal, dict[str, str]] | Response:
    """The preamble of a logged-in text form (no files): the visitor, who must be logged in
    (else to the login page), the form read with at most ``max_fields`` fields and its CSRF
    token checked (else 403, nothing else read); then the visitor, its principal and the
    form's text fields. The session check reads the database, so it runs in the thread pool."""
    v = await run_in_threadpool(visitor, request)
    if v.principal is None:
        return to_login()
    form = await request.form(max_files=0, max_fields=max_fields)
    if not csrf_ok(request, v, form):
        return csrf_refused(request, v)
    return v, v.principal, text_fields(form)

"""The 食安码 resolver: the URL a shopper's camera opens, answered per ``Accept``.

``/M/{merchant_id}``, ``/01/{gtin}/10/{lot}`` and ``/01/{gtin}/21/{serial}`` (each with the
code's ``?s=`` signature) answer with a zh-CN page for browsers, JSON for API clients, and a
GS1 Digital Link linkset (``application/linkset+json`` or ``?linkType=all``). A code that is
malformed, forged or names nothing we know gets a clear page (or problem+json), never a 500.
Each resolution is counted as a scan (no personal data: the code and a keyed hash of the
client's network, :mod:`foodtrace.resolver.scans`).

A page view only reads. Scans go to the app's :class:`~foodtrace.scan.service.ScanBuffer`
(started by this router's lifespan), which writes them in batches; proofs are served against
checkpoints that exist (newer records show as pending); and a resolved page is reused for a
second or so (:mod:`foodtrace.resolver.cache`) while each request still counts its scan.
The route opens its own session instead of the per-request session dependency: a sync
dependency with ``yield`` costs two extra thread hops per request, and nothing here writes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Final

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from foodtrace.api.limits import busy, busy_response
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.config import Settings
from foodtrace.resolver import codes, linkset, pages, pageviews, refresher, scans
from foodtrace.resolver.cache import MicroCache
from foodtrace.resolver.codes import CodeRejected, authority_keys, check_code
from foodtrace.resolver.refresher import PageRefresher, stored_kind
from foodtrace.resolver.rendering import (
    LINKSET_TYPE,
    STATIC_FILES,
    STATIC_PREFIX,
    negotiate,
    plain,
    static_data,
    static_url,
    templates,
)
from foodtrace.resolver.settings import ResolverSettings
from foodtrace.scan.buffer import ScanBuffer, ScanBufferFull
from foodtrace.trace.codes import Code, CodeKind

# The only query parameters a code's page depends on (the signature, GS1 linkType): the
# microcache key names these and nothing else, so ?x=random cannot fill it.
PAGE_PARAMS: Final = ("s", "linkType")

logger = logging.getLogger(__name__)


# --- the routes ------------------------------------------------------------------------------

# A code URL answers by Accept: the page (HTML), JSON or a GS1 linkset; a refused code is an
# HTML error page for a browser and problem+json otherwise.
_HTML = {"text/html": {"schema": {"type": "string"}}}
RESOLVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The code's page, its facts as JSON, or its GS1 linkset",
        "content": {
            **_HTML,
            "application/json": {"schema": {"type": "object"}},
            LINKSET_TYPE: {"schema": {"type": "object"}},
        },
    },
    **{
        status: {**doc, "content": {**doc["content"], **_HTML}}
        for status, doc in problem_responses(400, 403, 404).items()
    },
}


def _base(request: Request, settings: Settings) -> str:
    """Links name our configured origin only: the Host header is the client's to choose,
    and reflecting it would let anyone mint pages and linksets pointing elsewhere."""
    return settings.public_base_url.rstrip("/")


def _code_url(request: Request, settings: Settings) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    query = request.url.query
    return f"{_base(request, settings)}{path}{'?' + query if query else ''}"


def _cache_url(request: Request, settings: Settings) -> str:
    """The code URL with only the parameters a page depends on, in a fixed order."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    params = request.query_params
    known = "&".join(f"{k}={v}" for k in PAGE_PARAMS for v in params.getlist(k))
    return f"{_base(request, settings)}{raw.decode('latin-1')}{'?' + known if known else ''}"


def _rejected(request: Request, mode: str, r: CodeRejected) -> Response:
    if mode != "html":
        problem = Problem(
            r.status,
            {"malformed": "Malformed code", "forged": "Forged code", "unknown": "Unknown code"}[
                r.reason
            ],
            r.detail,
            problem_type(f"code-{r.reason}"),
            [FieldProblem(f"/{r.field}", r.detail)],
        )
        return problem.response(request.url.path)
    html = templates().get_template("error.html").render(rejection=r, static=static_url)
    return HTMLResponse(html, status_code=r.status)


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A resolved page as every scanner of the code gets it (what the microcache holds).
    With ``scans``, ``body`` is a JSON object still missing its per-request ``"scans"``."""

    code_key: str
    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()
    scans: bool = False

    def response(self, session: Session | None, buffer: ScanBuffer | None) -> Response:
        body = self.body
        if self.scans:
            assert session is not None, "a page with scan status needs a session"
            scan = scans.scan_view(session, buffer, self.code_key)
            status = json.dumps(plain(scan), ensure_ascii=False, separators=(",", ":"))
            body = b'%s,"scans":%s}' % (body[:-1], status.encode())
        return Response(body, media_type=self.media_type, headers=dict(self.headers))


def _respond(built: Resolved | Response, session: Session, buffer: ScanBuffer | None) -> Response:
    return built.response(session, buffer) if isinstance(built, Resolved) else built


def router(settings: Settings) -> APIRouter:
    tuning = ResolverSettings()
    range_c = (tuning.cold_chain_min_c, tuning.cold_chain_max_c)
    page_cache: MicroCache[Resolved] = MicroCache(tuning.resolve_cache_seconds)
    counting = scans.ScanCounting(settings)
    # The page read model (resolver.pageviews); not with witnesses, whose cosignatures
    # change a page's notes without any entry or checkpoint to mark it stale.
    read_model: PageRefresher | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal read_model
        buffer = ScanBuffer(app.state.engine, counting.thresholds, tuning.scan_flush_seconds)
        app.state.scan_buffer = buffer.start()
        app.state.page_cache = page_cache  # for /metrics-style inspection and tests
        if tuning.page_views and not pages.witnessing(settings, app.state.log):
            read_model = PageRefresher(
                app.state.sessions, app.state.log, settings, range_c, tuning.page_refresh_seconds
            ).start()
        app.state.page_refresher = read_model
        try:
            yield
        finally:
            if read_model is not None:
                await anyio.to_thread.run_sync(read_model.close)
                read_model = None
            app.state.scan_buffer = None
            await anyio.to_thread.run_sync(buffer.close)
            builders.shutdown(wait=False)

    r = APIRouter(tags=["resolver"], lifespan=lifespan)

    # Page builds run on these threads: long-lived, so each keeps its database connections.
    builders = ThreadPoolExecutor(max(tuning.resolve_build_threads, 1), "resolve-build")
    # ... and at most this many wait for one: past that a miss is answered 503.
    waiting = 0
    waiting_lock = threading.Lock()

    refreshing: set[tuple[str, str, int]] = set()  # keys whose page a builder is redoing
    refreshing_lock = threading.Lock()

    async def resolve(request: Request) -> Response:
        """A cached page is answered on the event loop (a dictionary lookup, the checkpoint
        size and, for JSON, the scan status: a few tens of microseconds of SQLite). An
        expired one is still answered while one builder thread rebuilds it (as a proxy's
        microcache serves stale while updating, so no request waits for a rebuild); a
        missing one is built on a builder thread, at most ``resolve_build_threads`` at once,
        so builds do not convoy on the GIL, and requests that missed together share one.
        At most ``resolve_build_queue`` misses wait for a builder; more get 503, as do
        scans once the scan buffer is full."""
        nonlocal waiting
        mode = negotiate(request.headers.get("accept", ""), request.query_params.get("linkType"))
        url = _code_url(request, settings)
        scan = counting.of(request)
        buffer: ScanBuffer | None = getattr(request.app.state, "scan_buffer", None)
        try:
            if page_cache.enabled and buffer is not None:
                hit = _from_cache(request, buffer, mode, url, scan)
                if hit is not None:
                    return hit
            with waiting_lock:
                if waiting >= tuning.resolve_build_queue:
                    raise busy("Too many pages are being built at once.", 1.0)
                waiting += 1
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    builders, _build, request, buffer, mode, url, scan
                )
            finally:
                with waiting_lock:
                    waiting -= 1
        except ScanBufferFull as exc:
            raise busy("Scans arrive faster than they can be written.", exc.retry_after) from exc

    def _from_cache(
        request: Request, buffer: ScanBuffer, mode: str, url: str, scan: scans.Scan
    ) -> Response | None:
        latest = request.app.state.log.latest_checkpoint()
        key = (_cache_url(request, settings), mode, latest.size if latest is not None else 0)
        found = page_cache.lookup(key)
        if found is None:  # only URLs whose code verified are ever stored
            return None
        hit, fresh = found
        if not fresh:
            with refreshing_lock:
                claimed = key not in refreshing
                refreshing.add(key)
            if claimed:
                builders.submit(_refresh, request, mode, url, latest, key)
        scans.count_scan(None, buffer, hit.code_key, scan)
        if not hit.scans:
            return hit.response(None, buffer)
        with request.app.state.sessions() as session:
            return hit.response(session, buffer)

    def _refresh(
        request: Request, mode: str, url: str, latest: Any, key: tuple[str, str, int]
    ) -> None:
        try:
            with request.app.state.sessions() as session:
                _resolve(request, session, None, mode, url, None, latest, key)
        except Exception:  # the stale page stays until it is too old, then a miss rebuilds
            logger.exception("rebuilding the page for %s failed", url)
        finally:
            with refreshing_lock:
                refreshing.discard(key)

    def _build(
        request: Request, buffer: ScanBuffer | None, mode: str, url: str, scan: scans.Scan
    ) -> Response:
        with request.app.state.sessions() as session:
            latest = request.app.state.log.latest_checkpoint()
            key = (_cache_url(request, settings), mode, latest.size if latest is not None else 0)
            hit = page_cache.get(key)  # built while this request waited for a builder
            if hit is not None:
                scans.count_scan(session, buffer, hit.code_key, scan)
                response = hit.response(session, buffer)
            else:
                response = _respond(
                    _resolve(request, session, buffer, mode, url, scan, latest, key),
                    session,
                    buffer,
                )
            session.commit()  # without a buffer, the scan was written in this transaction
        return response

    def _resolve(
        request: Request,
        session: Session,
        buffer: ScanBuffer | None,
        mode: str,
        url: str,
        scan: scans.Scan | None,
        latest: Any,
        key: tuple[str, str, int],
    ) -> Resolved | Response:
        """The page for ``url`` (stored in the microcache when it is the same for every
        scanner), or the rejection to send; counts ``scan`` unless it is None."""
        try:
            code = check_code(url, authority_keys(settings))
        except CodeRejected as exc:
            return _rejected(request, mode, exc)
        base = _base(request, settings)
        code_key = codes.code_key(code.subject)
        if scan is not None:
            scans.count_scan(session, buffer, code_key, scan)
        if mode == "linkset":
            body = {
                "linkset": [{"anchor": f"{base}{code.subject.path()}", **linkset.links(base, code)}]
            }
            resolved = Resolved(code_key, pages.encode(body), LINKSET_TYPE)
            page_cache.put(key, resolved)
            return resolved
        stored = read_model is not None and stored_kind(code, mode) and latest is not None
        if stored:
            served = _stored(request, session, code, mode, url, latest, key)
            if served is not None:
                return served
        shows_scans = code.kind is CodeKind.SERIAL  # only a serial's page shows its count
        page, template = pages.page_data(session, code, range_c)
        if page is None:
            return _rejected(
                request,
                mode,
                CodeRejected(
                    "unknown",
                    404,
                    "未找到该食安码对应的信息",
                    f"no record for {code.kind} {code.human_text}",
                    "path",
                ),
            )
        log = request.app.state.log
        if mode == "json":
            built = pages.build_json(session, log, settings, code, page, latest)
            resolved = Resolved(code_key, built.body, built.media_type, scans=True)
        else:
            scan_status = (
                scans.scan_view(session, buffer, code_key, counting.thresholds)
                if shows_scans
                else None
            )
            built = pages.build_html(
                session, log, settings, code, page, template, latest, scan_status
            )
            resolved = Resolved(code_key, built.body, built.media_type, pages.HTML_HEADERS)
        if not shows_scans:
            page_cache.put(key, resolved)
        return resolved

    def _stored(
        request: Request,
        session: Session,
        code: Code,
        mode: str,
        url: str,
        latest: Any,
        key: tuple[str, str, int],
    ) -> Resolved | None:
        """The page from the read model if its row can be served now (one row read and the
        latest anchor); otherwise None, and the refresher is asked to store it."""
        assert read_model is not None
        page_key = code.subject.path()
        row = pageviews.read(session, page_key, mode)
        if row is None or not pageviews.usable(row, refresher.current(session, latest)):
            read_model.request(page_key, mode, url)
            return None
        body = refresher.answer(row, latest, request.app.state.log, settings)
        code_key = codes.code_key(code.subject)
        if mode == "json":
            resolved = Resolved(code_key, body, "application/json", scans=True)
        else:
            resolved = Resolved(code_key, body, pages.HTML_TYPE, pages.HTML_HEADERS)
        page_cache.put(key, resolved)
        return resolved

    summary = "Resolve a 食安码 (HTML, JSON or GS1 linkset by Accept)"
    for path in ("/M/{merchant_id}", "/01/{gtin}/10/{lot}", "/01/{gtin}/21/{serial}"):
        responses = {**RESOLVE_RESPONSES, **busy_response()}
        r.add_api_route(path, resolve, methods=["GET"], summary=summary, responses=responses)

    @r.get(STATIC_PREFIX + "/{name}", include_in_schema=False)
    def static_file(name: str, v: str = "") -> Response:
        if name not in STATIC_FILES:
            raise Problem(404, "Not Found", f"no static file {name!r}")
        data, etag = static_data(name)
        # A versioned URL (?v=hash, from the templates) may be kept a day; a module imported
        # by a relative URL carries no version, so it is revalidated against its ETag.
        cache = "public, max-age=86400" if v else "no-cache"
        return Response(
            data,
            media_type=STATIC_FILES[name],
            headers={"ETag": f'"{etag}"', "Cache-Control": cache},
        )

    return r

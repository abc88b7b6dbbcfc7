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
from foodtrace.ledger.anchors import latest_anchor
from foodtrace.recall import banner as recall_banner
from foodtrace.resolver import codes, evidence, scans
from foodtrace.resolver.badge import Witnessing, proofs
from foodtrace.resolver.cache import MicroCache
from foodtrace.resolver.codes import CodeRejected, authority_keys, check_code
from foodtrace.resolver.display import complaint_categories, today_cst
from foodtrace.resolver.lot import lot_page, product_page
from foodtrace.resolver.merchant import merchant_page
from foodtrace.resolver.rendering import (
    LINKSET_TYPE,
    STATIC_FILES,
    STATIC_PREFIX,
    json_script,
    negotiate,
    plain,
    static_data,
    static_url,
    templates,
)
from foodtrace.resolver.settings import ResolverSettings
from foodtrace.scan.buffer import ScanBuffer, ScanBufferFull
from foodtrace.trace.codes import Code, CodeKind, Lot, Merchant, Serial

GS1: Final = "https://gs1.org/voc/"
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


def _links(base: str, code: Code) -> dict[str, list[dict[str, str]]]:
    """GS1 Digital Link link types for this code (RFC 9264 linkset target objects)."""
    s = code.subject
    here = f"{base}{s.path()}"
    page = {"href": here, "title": "食安码信息页", "type": "text/html", "hreflang": "zh-CN"}
    links: dict[str, list[dict[str, str]]] = {f"{GS1}defaultLink": [page], f"{GS1}pip": [page]}
    if isinstance(s, Merchant):
        p = f"{base}/api/v1/parties/{s.merchant_id}"
        links[f"{GS1}certificationInfo"] = [
            {"href": f"{p}/licences", "title": "许可证", "type": "application/json"},
            {"href": f"{p}/reports", "title": "检验报告", "type": "application/json"},
            {"href": f"{base}/api/v1/parties/{s.merchant_id}/inspections", "title": "监督检查"},
        ]
    else:
        gtin = s.gtin
        if isinstance(s, Lot):
            lot = s.lot
            links[f"{GS1}traceability"] = [
                {"href": here + "?linkType=gs1:traceability", "title": "溯源", "type": "text/html"}
            ]
            links[f"{GS1}epcis"] = [
                {
                    "href": f"{base}/epcis/events?MATCH_anyEPCClass=https://id.gs1.org/01/{gtin}/10/{lot}",
                    "title": "EPCIS 事件",
                    "type": "application/json",
                }
            ]
            links[f"{GS1}certificationInfo"] = [
                {
                    "href": f"{base}/api/v1/lots/{gtin}/{lot}/reports",
                    "title": "检验报告",
                    "type": "application/json",
                }
            ]
            links[f"{GS1}recallStatus"] = [
                {
                    "href": f"{base}/epcis/events?EQ_disposition=recalled",
                    "title": "召回状态",
                    "type": "application/json",
                }
            ]
        links[f"{GS1}masterData"] = [
            {"href": f"{base}/api/v1/products/{gtin}", "type": "application/json"}
        ]
    return links


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


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def router(settings: Settings) -> APIRouter:
    tuning = ResolverSettings()
    range_c = (tuning.cold_chain_min_c, tuning.cold_chain_max_c)
    pages: MicroCache[Resolved] = MicroCache(tuning.resolve_cache_seconds)
    counting = scans.ScanCounting(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        buffer = ScanBuffer(app.state.engine, counting.thresholds, tuning.scan_flush_seconds)
        app.state.scan_buffer = buffer.start()
        app.state.page_cache = pages  # for /metrics-style inspection and tests
        try:
            yield
        finally:
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
            if pages.enabled and buffer is not None:
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
        found = pages.lookup(key)
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
            hit = pages.get(key)  # built while this request waited for a builder
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
            body = {"linkset": [{"anchor": f"{base}{code.subject.path()}", **_links(base, code)}]}
            resolved = Resolved(code_key, _json(body), LINKSET_TYPE)
            pages.put(key, resolved)
            return resolved
        page, template = _page(session, code, range_c)
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
        if mode == "json":
            records = page.get("records", [])
            # The scanner's evidence in this one answer: the records' proofs, and the
            # authors' key registrations and revocations with theirs (resolver.evidence).
            unprovable = evidence.platform_signed(session, records, settings.platform_author)
            verifiable = [i for i in records if i not in unprovable]
            author_keys = evidence.author_keys(session, verifiable)
            proved = proofs(
                request.app.state.log,
                session,
                [*verifiable, *evidence.evidence_indices(author_keys)],
                latest_anchor(session),
                settings.chain_public_url,
                latest,
                witnessing(settings, request.app.state.log),
                chain_embedded=not settings.chain_url,
            )
            out = {
                "kind": code.kind.value,
                "code": code.human_text,
                **plain({k: v for k, v in page.items() if k != "records"}),
                "records": [{"index": i, "url": f"/api/v1/records/{i}"} for i in records],
                "proofs": proved,
                "author_keys": [k.to_json() for k in author_keys],
                "platform_signed": sorted(unprovable),
                "latest": None
                if latest is None
                else evidence.latest(
                    request.app.state.log,
                    latest,
                    proved["checkpoints"].get(str(latest.size))
                    or _cosigned(settings, request.app.state.log, latest.note),
                    [int(size) for size in proved["checkpoints"]],
                ),
            }
            resolved = Resolved(code_key, _json(out), "application/json", scans=True)
            pages.put(key, resolved)
            return resolved
        anchor = latest_anchor(session)
        bundle = proofs(
            request.app.state.log,
            session,
            page.get("records", []),
            anchor,
            settings.chain_public_url,
            latest,
            witnessing(settings, request.app.state.log),
            chain_embedded=not settings.chain_url,
        )
        shows_scans = code.kind is CodeKind.SERIAL  # only a serial's page shows its count
        html = (
            templates()
            .get_template(template)
            .render(
                **page,
                scan=scans.scan_view(session, buffer, code_key, counting.thresholds)
                if shows_scans
                else None,
                code=code,
                proofs=json_script(bundle),
                anchor=anchor,
                today=today_cst(),
                complaint_categories=complaint_categories(),
            )
        )
        resolved = Resolved(
            code_key,
            html.encode(),
            "text/html; charset=utf-8",
            (("Vary", "Accept"), ("Cache-Control", "no-store")),
        )
        if not shows_scans:
            pages.put(key, resolved)
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


def _cosigned(settings: Settings, log: Any, note: str) -> str:
    """``note`` with the cosignatures the log collected for it (as the page's notes)."""
    witnesses = witnessing(settings, log)
    return note if witnesses is None else witnesses.cosigned(note)


def witnessing(settings: Settings, log: Any) -> Witnessing | None:
    """The page's witness keys and quorum, and the cosignatures the log collected."""
    from foodtrace.witness.collect import cosigned_note, largest_cosigned, parse_endpoints

    endpoints = parse_endpoints(settings.witnesses)
    if not endpoints:
        return None
    names = [ep.name for ep in endpoints]
    return Witnessing(
        tuple(ep.vkey for ep in endpoints),
        settings.witnesses_required,
        lambda note: cosigned_note(log.engine, note, names),
        lambda: largest_cosigned(log.engine, names),
    )


def _page(
    session: Any, code: Code, range_c: tuple[float, float]
) -> tuple[dict[str, Any] | None, str]:
    s = code.subject
    if code.kind is CodeKind.MERCHANT:
        assert isinstance(s, Merchant)
        m = merchant_page(session, s.merchant_id, today_cst())
        if m is None:
            return None, "merchant.html"
        cases = recall_banner.merchant_cases(session, s.merchant_id)
        records = sorted({*m.records, *recall_banner.records(cases)})
        return {"merchant": m, "recall_cases": cases, "records": records}, "merchant.html"
    if isinstance(s, Lot):
        lot = lot_page(session, s.gtin, s.lot, range_c)
        if lot is None:
            return None, "lot.html"
        cases = recall_banner.lot_cases(session, s.gtin, s.lot)
        records = sorted({*lot.records, *recall_banner.records(cases)})
        return {"lot": lot, "recall_cases": cases, "records": records}, "lot.html"
    assert isinstance(s, Serial)
    found = product_page(session, s.gtin)
    if found is None:
        return None, "serial.html"
    name, producer, records = found
    return {
        "product": name,
        "producer": producer,
        "serial": s.serial,
        "gtin": s.gtin,
        "records": records,
    }, "serial.html"

"""The 食安码 resolver: the URL a shopper's camera opens, answered per ``Accept``.

``/M/{merchant_id}``, ``/01/{gtin}/10/{lot}`` and ``/01/{gtin}/21/{serial}`` (each with the
code's ``?s=`` signature) answer with a zh-CN page for browsers, JSON for API clients, and a
GS1 Digital Link linkset (``application/linkset+json`` or ``?linkType=all``). A code that is
malformed, forged or names nothing we know gets a clear page (or problem+json), never a 500.
Each resolution is counted as a scan (no personal data: the code and an optional region).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from foodtrace.api.app import SessionDep
from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.config import Settings
from foodtrace.resolver import service
from foodtrace.resolver.display import Fact
from foodtrace.trace.codes import Code, CodeKind, Lot, Merchant, Serial

LINKSET_TYPE: Final = "application/linkset+json"
GS1: Final = "https://gs1.org/voc/"
REGION_HEADER: Final = "x-foodtrace-region"  # set by an edge proxy (city/province), optional
STATIC_FILES: Final = {
    "verify.js": "text/javascript; charset=utf-8",
    "sha256.js": "text/javascript; charset=utf-8",
    "complaint.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
STATIC_PREFIX: Final = "/static/resolver"
OFFERS: Final = ("text/html", LINKSET_TYPE, "application/json")


# --- content negotiation ---------------------------------------------------------------------


def negotiate(accept: str, link_type: str | None) -> str:
    """``html``, ``json`` or ``linkset``: the best offer for ``Accept`` (RFC 9110 q-values;
    the most specific matching range decides an offer's q; ties go to HTML, the default
    for a phone camera that opens the URL)."""
    if link_type == "all":
        return "linkset"
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        ranges.append((bits[0].lower(), q))
    if not ranges:
        return "html"

    def quality(offer: str) -> float:
        kind = offer.split("/")[0]
        for pattern in (offer, f"{kind}/*", "*/*"):
            matches = [q for r, q in ranges if r == pattern]
            if matches:
                return max(matches)
        return 0.0

    scored = [(quality(o), -n, o) for n, o in enumerate(OFFERS)]
    best_q, _, best = max(scored)
    if best_q <= 0:
        return "html"
    return {"text/html": "html", LINKSET_TYPE: "linkset", "application/json": "json"}[best]


# --- rendering -------------------------------------------------------------------------------


@cache
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("foodtrace.resolver", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    return env


@cache
def _static(name: str) -> tuple[bytes, str]:
    data = resources.files("foodtrace.resolver").joinpath("static", name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_static(name)[1]}"


def _json_script(data: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _plain(value: Any) -> Any:
    """Page data as JSON: facts become their text; dataclasses dicts."""
    if isinstance(value, Fact):
        return value.text
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# --- the routes ------------------------------------------------------------------------------


def _base(request: Request, settings: Settings) -> str:
    return str(request.base_url).rstrip("/")


def _code_url(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    query = request.url.query
    return f"{str(request.base_url).rstrip('/')}{path}{'?' + query if query else ''}"


def _rejected(request: Request, mode: str, r: service.CodeRejected) -> Response:
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


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["resolver"])
    tuning = service.ResolverSettings()
    range_c = (tuning.cold_chain_min_c, tuning.cold_chain_max_c)

    def resolve(request: Request, session: SessionDep) -> Response:
        mode = negotiate(request.headers.get("accept", ""), request.query_params.get("linkType"))
        try:
            code = service.check_code(_code_url(request), service.authority_keys(settings))
        except service.CodeRejected as exc:
            return _rejected(request, mode, exc)
        base = _base(request, settings)
        scan = service.record_scan(
            session, service.code_key(code.subject), request.headers.get(REGION_HEADER)
        )
        if mode == "linkset":
            body = {"linkset": [{"anchor": f"{base}{code.subject.path()}", **_links(base, code)}]}
            return JSONResponse(body, media_type=LINKSET_TYPE)
        page, template = _page(session, code, range_c)
        if page is None:
            return _rejected(
                request,
                mode,
                service.CodeRejected(
                    "unknown",
                    404,
                    "未找到该食安码对应的信息",
                    f"no record for {code.kind} {code.human_text}",
                    "path",
                ),
            )
        if mode == "json":
            records = page.get("records", [])
            out = {
                "kind": code.kind.value,
                "code": code.human_text,
                **_plain({k: v for k, v in page.items() if k != "records"}),
                "scans": _plain(scan),
                "records": [{"index": i, "url": f"/api/v1/records/{i}"} for i in records],
            }
            return JSONResponse(out)
        log = request.app.state.log
        anchor = service.latest_anchor(request.app.state.engine)
        bundle = service.proofs(log, page.get("records", []), anchor, settings.chain_public_url)
        html = (
            templates()
            .get_template(template)
            .render(
                **page,
                scan=scan,
                code=code,
                proofs=_json_script(bundle),
                anchor=anchor,
                today=service.today_cst(),
                complaint_categories=service.complaint_categories(),
            )
        )
        return HTMLResponse(html, headers={"Vary": "Accept", "Cache-Control": "no-store"})

    summary = "Resolve a 食安码 (HTML, JSON or GS1 linkset by Accept)"
    r.add_api_route("/M/{merchant_id}", resolve, methods=["GET"], summary=summary)
    r.add_api_route("/01/{gtin}/10/{lot}", resolve, methods=["GET"], summary=summary)
    r.add_api_route("/01/{gtin}/21/{serial}", resolve, methods=["GET"], summary=summary)

    @r.get(STATIC_PREFIX + "/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name not in STATIC_FILES:
            raise Problem(404, "Not Found", f"no static file {name!r}")
        data, etag = _static(name)
        return Response(
            data,
            media_type=STATIC_FILES[name],
            headers={"ETag": f'"{etag}"', "Cache-Control": "public, max-age=86400"},
        )

    return r


def _page(
    session: Any, code: Code, range_c: tuple[float, float]
) -> tuple[dict[str, Any] | None, str]:
    s = code.subject
    if code.kind is CodeKind.MERCHANT:
        assert isinstance(s, Merchant)
        m = service.merchant_page(session, s.merchant_id, service.today_cst())
        return (None if m is None else {"merchant": m, "records": m.records}), "merchant.html"
    if isinstance(s, Lot):
        lot = service.lot_page(session, s.gtin, s.lot, range_c)
        return (None if lot is None else {"lot": lot, "records": lot.records}), "lot.html"
    assert isinstance(s, Serial)
    found = service.product_page(session, s.gtin)
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

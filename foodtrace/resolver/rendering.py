"""How the resolver answers: which format a request asks for (``Accept``, RFC 9110
q-values) and how pages are rendered (Jinja2 templates, fingerprinted static files, the
page's JSON data island)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any, Final

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from foodtrace.resolver.display import Fact

LINKSET_TYPE: Final = "application/linkset+json"
STATIC_FILES: Final = {
    "verify.js": "text/javascript; charset=utf-8",
    # verify.js's ES modules, one concept each (imported as ./name.js, without ?v=).
    **{
        f"{m}.js": "text/javascript; charset=utf-8"
        for m in ("bytes", "merkle", "ed25519", "note", "facts", "ui", "chain", "witnesses")
    },
    "noble.js": "text/javascript; charset=utf-8",
    "complaint.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
# Third-party code, committed as built by scripts/build-noble.js (see its licence files there).
VENDORED: Final = {"noble.js": "vendor/noble.js"}
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
def static_data(name: str) -> tuple[bytes, str]:
    path = VENDORED.get(name, name)
    data = resources.files("foodtrace.resolver").joinpath("static", *path.split("/")).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={static_data(name)[1]}"


def json_script(data: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def plain(value: Any) -> Any:
    """Page data as JSON: facts become their text; dataclasses dicts."""
    if isinstance(value, Fact):
        return value.text
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value

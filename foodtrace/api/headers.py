"""Security headers on every response, as a pure ASGI middleware.

The pages carry no inline script or style: the proof data is a JSON data island
(``<script type="application/json">``, which CSP does not execute) and the badge's code is a
static file, so ``script-src 'self'`` holds. The badge reads the anchored root from a chain
RPC the user may pick, so ``connect-src`` allows the configured public RPC's origin and any
``https:`` origin (a browser on an https page may not call plain http anyway).

HSTS is sent only when the public base URL is https: on plain http it would be ignored at
best, and at worst pin a development host to a TLS it does not serve.

The resolver negotiates HTML, JSON and linkset on one URL, so every response there says
``Vary: Accept``: a shared cache must not hand a browser the JSON a client asked for.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NEGOTIATED_PREFIXES: Final = ("/M/", "/01/")
"""Paths of the resolver's content-negotiated 食安码 URLs."""
DOCS_PATHS: Final = ("/docs", "/docs/oauth2-redirect")
"""FastAPI's Swagger UI: an inline bootstrap script and assets from its CDN."""
HSTS_MAX_AGE: Final = 365 * 24 * 3600
REFERRER_POLICY: Final = "strict-origin-when-cross-origin"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]  # never echo credentials into a header
    return f"{parts.scheme}://{host}"


def content_security_policy(rpc_urls: list[str]) -> str:
    """The pages' policy; ``rpc_urls`` are the chain RPCs the badge may call."""
    origins = sorted({o for o in map(origin_of, rpc_urls) if o})
    connect = " ".join(["'self'", *origins, "https:"])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def security_headers(public_base_url: str, rpc_urls: list[str]) -> dict[str, str]:
    """The headers every response gets (CSP aside for the API docs)."""
    headers = {
        "Content-Security-Policy": content_security_policy(rpc_urls),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": REFERRER_POLICY,
    }
    if urlsplit(public_base_url).scheme == "https":
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}; includeSubDomains"
    return headers


def add_vary(headers: MutableHeaders, field: str) -> None:
    """Add ``field`` to ``Vary`` unless it is already named there."""
    present = [v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()]
    if field.lower() not in present and "*" not in present:
        headers["Vary"] = ", ".join([*filter(None, [headers.get("vary")]), field])


class SecurityHeaders:
    """Set :func:`security_headers` on every HTTP response (a route's own value wins only
    for ``Vary``, which is merged)."""

    def __init__(self, app: ASGIApp, *, public_base_url: str, rpc_urls: list[str]) -> None:
        self.app = app
        self.headers = security_headers(public_base_url, rpc_urls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if path in DOCS_PATHS:
                    headers["Content-Security-Policy"] = DOCS_CSP
                if path.startswith(NEGOTIATED_PREFIXES):
                    add_vary(headers, "Accept")
            await send(message)

        await self.app(scope, receive, send_with_headers)

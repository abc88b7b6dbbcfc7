"""The HTTP middleware: a request id, one JSON log line and the HTTP metrics per request.

Metric labels use the route *template* (``/01/{gtin}/10/{lot}``), never the raw path: a
label per scanned code would grow without bound. The log line has both, the raw path with
its query redacted (:func:`foodtrace.observe.logs.redact_query`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foodtrace.observe import logs, metrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

log = logging.getLogger("foodtrace.http")


def route_template(scope: Scope) -> str:
    """The matched route's path template, or :data:`metrics.UNMATCHED_ROUTE`."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return (
        f"{scope.get('root_path', '')}{path}" if isinstance(path, str) else metrics.UNMATCHED_ROUTE
    )


def incoming_request_id(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` if it is a plain token, else a new one (a caller's id is
    echoed into our logs, so it must not be able to inject text into them)."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            text = bytes(value).decode("latin-1")
            if _VALID_ID.match(text):
                return text
    return uuid.uuid4().hex


class RequestObserver:
    """Pure ASGI middleware (no buffering of bodies, so streaming responses stay streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        token = logs.request_id.set(rid)
        start = time.perf_counter()
        status = 500  # if the app raises before answering, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope)
            method = scope.get("method", "GET")
            metrics.answered(method, route, status, seconds)
            query = logs.redact_query(scope.get("query_string", b"").decode("latin-1"))
            level = logging.ERROR if status >= 500 else logging.INFO
            log.log(
                level,
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "request_id": rid,
                    "method": method,
                    "route": route,
                    "path": f"{scope.get('path', '')}?{query}" if query else scope.get("path"),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
            logs.request_id.reset(token)

"""Refuse request bodies over a size limit with 413 problem+json, before anything buffers them.

A declared ``Content-Length`` over the limit is refused before the application runs. A body
without one (chunked) or with a lying one is counted while it streams: once the count
passes the limit the application's next ``receive()`` raises, whatever it was about to answer
is dropped, and the client gets the 413 instead. At most ``limit`` bytes plus one chunk are
ever passed on.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.config import MAX_REQUEST_BYTES


class RequestTooLarge(Exception):
    """Raised from ``receive()`` once the streamed body passes the limit."""


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Content Too Large",
        f"The request body is larger than the limit of {limit} bytes.",
        problem_type("too-large"),
        [FieldProblem("/body", f"expected at most {limit} bytes")],
        headers={"Connection": "close"},
    )


def _bad_length(value: str) -> Problem:
    return Problem(
        400,
        "Bad Request",
        "The Content-Length header is not a non-negative integer.",
        problem_type("bad-content-length"),
        [FieldProblem("/header/content-length", f"expected a byte count, got {value!r:.40}")],
    )


class BodySizeLimit:
    """ASGI middleware: at most ``max_bytes`` of request body per HTTP request."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _bad_length(declared).response(path)(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await too_large(self.max_bytes).response(path)(scope, receive, send)
                return

        limit = self.max_bytes
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise RequestTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise RequestTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the application's answer to a truncated body; the 413 replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await too_large(limit).response(path)(scope, receive, send)


# --- bounded queues --------------------------------------------------------------------------


def busy(detail: str, retry_after: float, pointer: str = "/") -> Problem:
    """503 with ``Retry-After``: a bounded queue is full; the client should come back."""
    seconds = max(int(retry_after + 0.999), 1)
    return Problem(
        503,
        "Service Unavailable",
        detail,
        problem_type("busy"),
        [FieldProblem(pointer, f"the queue is full; retry after {seconds} s")],
        headers={"Retry-After": str(seconds)},
    )


def busy_response() -> dict[int | str, dict[str, Any]]:
    """``responses=`` documenting :func:`busy`'s 503 and its ``Retry-After`` header."""
    doc = problem_responses(503)
    doc[503] = {
        **doc[503],
        "description": "A bounded queue is full; retry after the given number of seconds",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
    return doc


class Gate:
    """At most ``running`` jobs at once and ``waiting`` more in line (thread-safe); one
    more is refused with :func:`busy` instead of queueing without bound."""

    def __init__(self, running: int, waiting: int, what: str, retry_after: float = 1.0) -> None:
        if running < 1 or waiting < 0:
            raise ValueError(f"expected running >= 1 and waiting >= 0, got {running}, {waiting}")
        self.capacity = running + waiting
        self.what = what
        self.retry_after = retry_after
        self.slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._admitted = 0

    def admit(self) -> None:
        """Take a place in line, or raise the 503."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise busy(f"Too many {self.what} at once; try again shortly.", self.retry_after)
            self._admitted += 1

    def leave(self) -> None:
        with self._lock:
            self._admitted -= 1

    @property
    def admitted(self) -> int:
        return self._admitted


# --- reads before bulk writes ----------------------------------------------------------------

READS_IN_FLIGHT = ("GET", "HEAD")
MAX_YIELD_S: Final = 0.02
"""The longest a bulk write steps aside at once, whatever its last step cost."""


class ReadsInFlight:
    """ASGI middleware counting this process's GET and HEAD requests being answered, so a
    bulk write on a worker thread can give way to them (:func:`give_way`)."""

    count = 0
    _lock = threading.Lock()

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in READS_IN_FLIGHT:
            await self.app(scope, receive, send)
            return
        cls = type(self)
        with cls._lock:
            cls.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            with cls._lock:
                cls.count -= 1


def give_way(spent_s: float) -> None:
    """Called by a bulk write between its steps (a capture's projection, per event): while
    pages are being answered in this process, sleep as long as the last step took (at most
    :data:`MAX_YIELD_S`), so the write holds the GIL at most half the time pages need it
    and never stops (a step always follows the sleep)."""
    if ReadsInFlight.count > 0 and spent_s > 0:
        time.sleep(min(spent_s, MAX_YIELD_S))

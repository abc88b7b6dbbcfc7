"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

One shape everywhere, so a client needs one error path::

    {
      "type": "https://foodtrace.example/problems/validation",   # or "about:blank"
      "title": "Request validation failed",
      "status": 422,
      "detail": "3 problems in the request",
      "instance": "/v1/lots",
      "errors": [{"pointer": "/body/gtin", "detail": "String should have 14 characters"}]
    }

``errors`` is always present (possibly empty). Each entry names the offending input by a
JSON Pointer (RFC 6901) whose first segment says where it came from (``body``, ``query``,
``path``, ``header``, ``cookie``) and says what was expected. Handlers here translate our
:class:`Problem`, FastAPI's validation errors, :class:`~foodtrace.trace.errors.EntryError`,
:class:`~foodtrace.trace.errors.VerificationError`, HTTP exceptions and anything unexpected
(500, without internals) into that shape.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from starlette.exceptions import HTTPException

from foodtrace.trace.errors import EntryError, VerificationError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://foodtrace.example/problems/"

log = logging.getLogger(__name__)


def problem_type(slug: str) -> str:
    """The type URI of one of our problem kinds (``validation``, ``invalid-entry``, ...)."""
    return PROBLEM_TYPE_BASE + slug


def pointer(*segments: str | int) -> str:
    """A JSON Pointer (RFC 6901) from path segments, escaping ``~`` and ``/``."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with the input: where (JSON Pointer) and what was expected."""

    pointer: str
    detail: str


@dataclass(eq=False)
class Problem(Exception):
    """Raise anywhere below a route to answer with this problem.

    ``type_uri`` defaults to ``about:blank`` (the status code says it all); use
    :func:`problem_type` for our own kinds. ``headers`` go on the response (e.g.
    ``WWW-Authenticate``).
    """

    status: int
    title: str
    detail: str | None = None
    type_uri: str = "about:blank"
    errors: Sequence[FieldProblem] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    def to_json(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        if instance is not None:
            body["instance"] = instance
        body["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in self.errors]
        return body

    def response(self, instance: str | None = None) -> JSONResponse:
        return JSONResponse(
            self.to_json(instance),
            status_code=self.status,
            headers=dict(self.headers),
            media_type=PROBLEM_MEDIA_TYPE,
        )


# --- OpenAPI -------------------------------------------------------------------------------


class ProblemError(BaseModel):
    """One entry of ``errors``."""

    pointer: str = Field(description="JSON Pointer to the input, e.g. /body/items/0/gtin")
    detail: str = Field(description="What was wrong and what was expected")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error response of the API."""

    type: str = Field("about:blank", description="URI naming the kind of problem")
    title: str = Field(description="Short summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(None, description="What happened this time")
    instance: str | None = Field(None, description="The request path that failed")
    errors: list[ProblemError] = Field(description="Every problem found with the input")


_DESCRIPTIONS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing or invalid API token",
    403: "The token's role may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "The input did not validate; `errors` lists every problem",
    500: "Unexpected server error",
    503: "A dependency (database, chain) is unavailable",
    507: "The database has no room left; nothing of the request was stored",
}
DEFAULT_PROBLEM_STATUSES = (400, 413, 422, 500)
_SCHEMA_REF = "#/components/schemas/ProblemDetails"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route or router documenting problem+json error responses.

    With no arguments: 400, 413, 422 and 500, which any route with a body may return. The
    ``ProblemDetails`` schema they refer to is added to the document by
    :func:`install_problem_handlers`.
    """
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _SCHEMA_REF}}},
        }
        for status in statuses or DEFAULT_PROBLEM_STATUSES
    }


def problem_schemas() -> dict[str, Any]:
    """OpenAPI component schemas: ``ProblemDetails`` and ``ProblemError``."""
    schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"ProblemDetails": schema, **defs}


# --- translations ---------------------------------------------------------------------------


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> Problem:
    """Every pydantic error as one entry naming the field by pointer and what was expected.

    A body that is not JSON at all is a 400 (the request is malformed, not invalid).
    """
    errors = list(errors)
    if errors and all(e.get("type") == "json_invalid" for e in errors):
        e = errors[0]
        where = e["loc"][1] if len(e["loc"]) > 1 else "?"
        why = (e.get("ctx") or {}).get("error", "invalid JSON")
        return Problem(
            400,
            "Malformed JSON",
            "The request body is not valid JSON.",
            problem_type("malformed-json"),
            [FieldProblem("/body", f"expected valid JSON: {why} at character {where}")],
        )
    items = [FieldProblem(pointer(*e["loc"]), _expected(e)) for e in errors]
    n = len(items)
    return Problem(
        422,
        "Request validation failed",
        f"{n} problem{'s' if n != 1 else ''} in the request",
        problem_type("validation"),
        items,
    )


def _expected(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not an allowed field"
    if kind in ("value_error", "assertion_error") and "error" in (error.get("ctx") or {}):
        return str(error["ctx"]["error"])
    return str(error.get("msg", "is invalid"))


def entry_problem(exc: EntryError, base: str = "/body") -> Problem:
    """An entry rejected by :func:`foodtrace.trace.entry.validate`.

    Its fields are relative to the entry; ``base`` is where the entry sits in the request
    (the whole body by default). ``entry`` means the entry itself; dotted names
    (``body.gtin``) become pointer segments.
    """
    items = [
        FieldProblem(base if name == "entry" else base + pointer(*name.split(".")), message)
        for name, message in exc.problems
    ]
    return Problem(
        422,
        "Invalid entry",
        f"The entry was rejected: {len(items)} problem{'s' if len(items) != 1 else ''}",
        problem_type("invalid-entry"),
        items,
    )


def verification_problem(exc: VerificationError) -> Problem:
    """Input that failed a cryptographic check (signature, proof, checkpoint).

    Checks of the server's own data must catch their errors and fail loudly instead: reaching
    this handler means the client sent something that does not verify.
    """
    return Problem(422, "Verification failed", str(exc), problem_type("verification-failed"))


_GENERIC_DETAIL = {
    404: "There is nothing at this path.",
    405: "This path does not accept that method.",
}


def http_problem(exc: HTTPException) -> Problem:
    phrase = HTTPStatus(exc.status_code).phrase
    detail: str | None = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if detail == phrase:
        detail = _GENERIC_DETAIL.get(exc.status_code)
    return Problem(exc.status_code, phrase, detail, headers=dict(exc.headers or {}))


# --- handlers -------------------------------------------------------------------------------


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return exc.response(request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc.errors()).response(request.url.path)


async def _on_entry_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EntryError)
    return entry_problem(exc).response(request.url.path)


async def _on_verification(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VerificationError)
    return verification_problem(exc).response(request.url.path)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return http_problem(exc).response(request.url.path)


# SQLSTATE class 53 (insufficient resources): 53100 disk full, 53200 out of memory, ...
_PG_DISK_FULL = "53100"
_SQLITE_FULL = 13  # SQLITE_FULL: the disk, or the database's max_page_count, is full
RETRY_AFTER_S = "1"
# What SQLAlchemy says when a connection that dropped inside a transaction is used again
# before that transaction was rolled back (the log writer's batch after a lost server): the
# transaction never committed, so it is an outage like the disconnect itself, not a bug.
_INVALIDATED = "Can't reconnect until invalid transaction is rolled back"


def storage_problem(exc: BaseException) -> Problem | None:
    """The database refusing a write for lack of room (507), or gone (503 + Retry-After),
    whether raised by SQLAlchemy or straight from the driver (the log writes rows through the
    raw cursor); None for any other error. A failed transaction is rolled back whole, so
    either answer means nothing of the request was stored (a 503 while waiting for the
    sequencer excepted: README, "Several workers")."""
    cause: BaseException | None = exc
    invalidated = False
    if isinstance(exc, DBAPIError):
        cause, invalidated = exc.orig, exc.connection_invalidated
    elif isinstance(exc, PendingRollbackError):
        invalidated = str(exc).startswith(_INVALIDATED)
    if isinstance(cause, sqlite3.Error) and getattr(cause, "sqlite_errorcode", None) == (
        _SQLITE_FULL
    ):
        return _full()
    if isinstance(cause, psycopg.Error) and cause.sqlstate == _PG_DISK_FULL:
        return _full()
    if invalidated or isinstance(cause, psycopg.OperationalError):
        return Problem(
            503,
            "Service Unavailable",
            "The database is not reachable; try again shortly.",
            headers={"Retry-After": RETRY_AFTER_S},
        )
    return None


def _full() -> Problem:
    return Problem(
        507,
        "Insufficient Storage",
        "The database has no room left; nothing of the request was stored.",
        problem_type("insufficient-storage"),
        headers={"Retry-After": RETRY_AFTER_S},
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Handled inside the app (not by the outermost catch-all), so the request log and the
    error metrics see the 507/503 that is answered."""
    storage = storage_problem(exc)
    if storage is None:
        return await _on_unexpected(request, exc)
    log.warning("%s %s: %d (%s)", request.method, request.url.path, storage.status, exc)
    return storage.response(request.url.path)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex
    log.error(
        "unexpected error, incident %s: %s %s",
        incident,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    problem = Problem(
        500,
        "Internal Server Error",
        f"An unexpected error occurred; quote incident {incident} when reporting it.",
    )
    return problem.response(request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error with problem+json, and put its schema in the OpenAPI document."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(EntryError, _on_entry_error)
    app.add_exception_handler(VerificationError, _on_verification)
    app.add_exception_handler(HTTPException, _on_http)
    for database_error in (DBAPIError, PendingRollbackError, sqlite3.Error, psycopg.Error):
        app.add_exception_handler(database_error, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                problem_schemas()
            )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]

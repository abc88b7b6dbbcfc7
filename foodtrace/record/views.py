"""HTTP helpers every domain's router shares, and the generic record read.

Write routes accept either ``{"entry": {…}}`` (signed by the client) or the plain body of
the entry type, which the server signs with the party's custodial key. Either way the entry
goes through :func:`foodtrace.record.service.submit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from foodtrace.api.problems import (
    FieldProblem,
    Problem,
    entry_problem,
    problem_responses,
    problem_type,
)
from foodtrace.auth.models import Principal
from foodtrace.config import Settings
from foodtrace.record import registry
from foodtrace.record.schemas import RecordProof, SignedEntryRequest
from foodtrace.record.service import RecordRef, body_problems, record_proof, sign_custodial, submit
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry
from foodtrace.trace.errors import EntryError

API = "/api/v1"

MAX_INDEX = 2**63 - 1
IndexPath = Annotated[int, Path(ge=0, le=MAX_INDEX, examples=[0])]
"""A log index in a path: bounded by the databases' 64-bit integers, so a larger number is
a 422 naming the parameter rather than an overflow in the driver."""


def get_log(request: Request) -> MerkleLog:
    log: MerkleLog = request.app.state.log
    return log


LogDep = Annotated[MerkleLog, Depends(get_log)]


def sessions(request: Request) -> Callable[[], Session]:
    """A fresh session per use. Writes after an append need their own transaction: on
    SQLite a request's session that read before the append holds a stale snapshot."""
    factory: Callable[[], Session] = request.app.state.sessions
    return factory


def settings_of(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its ``$defs`` inlined, to embed in an operation."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def write_openapi(model: type[BaseModel], example: Mapping[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` documenting a write body: a signed entry or the plain body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _inline(SignedEntryRequest.model_json_schema()),
                            _inline(model.model_json_schema()),
                        ]
                    },
                    "examples": {
                        "custodial": {
                            "summary": "Plain body, signed by the server's key for the party",
                            "value": dict(example),
                        },
                        "signed": {
                            "summary": "An entry the client signed with its own key",
                            "value": {"entry": {"v": 1, "type": "…", "body": dict(example)}},
                        },
                    },
                }
            },
        },
        # A write needs a token of a role that may write it (401, 403); with several workers
        # (FOODTRACE_SEQUENCER) it waits for the elected sequencer (503).
        "responses": {str(k): v for k, v in problem_responses(401, 403, 503).items()},
    }


def entry_of(
    request: Request,
    principal: Principal,
    type: str,
    payload: Mapping[str, Any],
    *,
    extra_fields: frozenset[str] = frozenset(),
) -> tuple[Entry, str]:
    """The entry a write request carries, and the pointer of the entry in the request
    (``/body/entry``, or ``""`` for a plain body: its fields are then ``/body/…``).

    A plain body is checked (role, then fields) before the server signs it, so a refused
    request never uses the custodial key.
    """
    spec = registry.spec(type)
    if "entry" in payload:
        unknown = sorted(set(payload) - {"entry"} - extra_fields)
        try:
            entry = entry_mod.validate(payload["entry"])
        except EntryError as exc:
            problem = entry_problem(exc, "/body/entry")
            problem.errors = [*problem.errors, *_unknown(unknown)]
            raise problem from exc
        problems = _unknown(unknown)
        if entry.type != type:
            problems.append(FieldProblem("/body/entry/type", f"expected {type}, got {entry.type}"))
        if problems:
            raise _invalid(problems)
        return entry, "/body/entry"
    check_role(principal, type)
    body = {k: v for k, v in payload.items() if k not in extra_fields}
    if spec.body is not None:
        problems = body_problems(spec.body, body, "/body")
        if problems:
            raise _invalid(problems)
        body = spec.body.model_validate(body).model_dump(mode="json", exclude_none=True)
    with sessions(request)() as session:
        return sign_custodial(
            session, principal.party_id, type, body, settings=settings_of(request)
        ), ""


def check_role(principal: Principal, type: str) -> None:
    """403 unless the principal's role may write ``type`` entries: views that look at a plain
    body before :func:`write` does call this first, so a refused role learns no field rules."""
    spec = registry.spec(type)
    if principal.role not in spec.roles:
        roles = ", ".join(sorted(r.value for r in spec.roles))
        raise Problem(
            403,
            "Forbidden",
            f"The role {principal.role.value} may not write {type} entries; expected one of: "
            f"{roles}.",
            problem_type("forbidden"),
        )


def _unknown(names: list[str]) -> list[FieldProblem]:
    return [FieldProblem(f"/body/{n}", "is not an allowed field") for n in names]


def _invalid(problems: list[FieldProblem]) -> Problem:
    n = len(problems)
    return Problem(
        422,
        "Invalid entries",
        f"Nothing was written: {n} problem{'s' if n != 1 else ''}",
        problem_type("invalid-entry"),
        problems,
    )


Payload = Annotated[dict[str, Any], Body()]
"""A write route's JSON body: the entry body for the server to sign with the party's
custodial key, or ``{"entry": …}`` signed by the client (see :func:`write`)."""


def body_of(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The entry body a write request carries, signed (``{"entry": …}``) or plain, for a
    route to compare with its path before writing; ``{}`` if it has none."""
    entry = payload.get("entry")
    if isinstance(entry, Mapping):
        body = entry.get("body")
        return body if isinstance(body, Mapping) else {}
    return payload


def path_mismatch(field: str, expected: object) -> Problem:
    """422 for a body field that must repeat the path's value."""
    return _invalid([FieldProblem(f"/body/{field}", f"expected {expected}, as in the path")])


def check_path(
    principal: Principal, type: str, payload: Mapping[str, Any], field: str, expected: object
) -> None:
    """Before writing a ``type`` body that must repeat the path's value: 403 for a role that
    may not write ``type`` at all (it learns no field rules), then 422 if ``field`` differs."""
    check_role(principal, type)
    if body_of(payload).get(field) != expected:
        raise path_mismatch(field, expected)


def write(
    request: Request,
    principal: Principal,
    type: str,
    payload: Mapping[str, Any],
    *,
    extra_fields: frozenset[str] = frozenset(),
    also: registry.Projector | None = None,
) -> RecordRef:
    """Turn one write request into one logged entry (or a problem, writing nothing);
    ``also`` is projected with it (see :func:`submit`)."""
    entry, base = entry_of(request, principal, type, payload, extra_fields=extra_fields)
    [ref] = submit(
        get_log(request), sessions(request), principal, [entry], where=lambda _: base, also=also
    )
    return ref


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["records"])

    @r.get(
        "/records/{index}",
        summary="Any logged entry with its inclusion proof",
        response_model=RecordProof,
        responses=problem_responses(404),
    )
    def read_record(log: LogDep, index: IndexPath) -> dict[str, Any]:
        try:
            return record_proof(log, index)
        except IndexError as exc:
            raise Problem(404, "Not Found", str(exc)) from exc

    return r


def recorded(log: MerkleLog, record: Any, index: int) -> dict[str, Any]:
    """A read's answer: the record, the index of the entry behind it, and that entry's
    proof (see :class:`foodtrace.record.schemas.Recorded`)."""
    return {"record": record, "entry_index": index, "proof": record_proof(log, index)}


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"{what} is not recorded.", problem_type("not-found"))

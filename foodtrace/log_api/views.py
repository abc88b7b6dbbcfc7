"""The log's own read routes, for clients that keep the checkpoints they have seen.

A client that remembers a checkpoint asks for a consistency proof from that size to the size
of the next checkpoint it is shown; if the server ever showed it a history that the new one
does not extend, no proof can verify, and the client has caught a split view. The proofs are
pure data (RFC 9162 hashes): nothing here needs to be trusted.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.config import Settings
from foodtrace.record.views import API, LogDep
from foodtrace.witness.collect import cosigned_note, largest_cosigned, parse_endpoints


class CheckpointOut(BaseModel):
    size: int
    checkpoint: str = Field(
        description="C2SP signed-note checkpoint, with the cosignature/v1 lines of the "
        "configured witnesses that cosigned it (C2SP tlog-cosignature)"
    )
    verifier_key: str = Field(description="The log's checkpoint verifier key")


class ConsistencyOut(BaseModel):
    from_size: int = Field(serialization_alias="from")
    to_size: int = Field(serialization_alias="to")
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes")


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=f"{API}/log", tags=["log"])
    witnesses = [ep.name for ep in parse_endpoints(settings.witnesses)]

    @r.get(
        "/checkpoint", summary="The log's latest signed checkpoint", response_model=CheckpointOut
    )
    def latest_checkpoint(
        log: LogDep,
        witnessed: Annotated[
            bool,
            Query(
                description="The largest checkpoint a configured witness cosigned instead "
                "(the latest may not be cosigned yet); the latest if none was"
            ),
        ] = False,
    ) -> Any:
        size = largest_cosigned(log.engine, witnesses) if witnessed and witnesses else None
        cp = (
            log.checkpoint_at(size)
            if size is not None
            else log.latest_checkpoint() or log.issue_checkpoint()
        )
        note = cosigned_note(log.engine, cp.note, witnesses) if witnesses else cp.note
        return CheckpointOut(size=cp.size, checkpoint=note, verifier_key=log.verifier_key())

    @r.get(
        "/consistency",
        summary="An RFC 9162 consistency proof between two tree sizes",
        response_model=ConsistencyOut,
        response_model_by_alias=True,
    )
    def consistency(
        log: LogDep,
        from_size: Annotated[int, Query(alias="from", ge=0, examples=[10])],
        to_size: Annotated[int, Query(alias="to", ge=0, examples=[20])],
    ) -> Any:
        size = log.size()
        problems = []
        if from_size > to_size:
            problems.append(FieldProblem("/query/from", f"expected at most to={to_size}"))
        if to_size > size:
            problems.append(FieldProblem("/query/to", f"expected at most the log size {size}"))
        if problems:
            raise Problem(
                422,
                "Invalid sizes",
                "A consistency proof goes from a smaller tree to a larger one the log has.",
                problem_type("invalid-query"),
                problems,
            )
        proof = log.consistency_proof(from_size, to_size) if from_size else []
        return ConsistencyOut(
            from_size=from_size,
            to_size=to_size,
            proof=[base64.b64encode(h).decode() for h in proof],
        )

    return r

"""``/healthz`` and ``/metrics``.

Both are plain ``def`` routes, so FastAPI runs them in the thread pool: a slow database or
chain holds a worker thread for at most the probe's timeout, never the event loop.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from foodtrace.api.problems import Problem, problem_responses
from foodtrace.observe import health, metrics
from foodtrace.observe.health import ChainProbe
from foodtrace.store.log import MerkleLog


class HealthOut(BaseModel):
    status: str = Field(
        description="`ok`; `degraded` when the chain is unreachable, anchoring fails or the "
        "lag cannot be read (the log still accepts and proves entries)",
        examples=["ok"],
    )
    database: dict[str, Any] = Field(description="`reachable` and the `dialect`")
    chain: dict[str, Any] = Field(
        description="`kind` (rpc or embedded), `reachable` (null: the embedded chain is not "
        "open in this process) and `block_number` or `error`; cached a few seconds"
    )
    sequencer: dict[str, Any] = Field(
        description="Who writes the log (`writer`, `pid`, `writer_running`, `queued`) and "
        "who anchors it (`anchoring`)"
    )
    anchor_lag: dict[str, Any] = Field(
        description="`entries` beyond the latest final anchor and `seconds` since it, while "
        "entries wait (null: nothing anchored yet); `error` if it could not be read"
    )


_METRICS_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition of the `foodtrace_…` metrics",
        "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
    },
    **problem_responses(500),
}


def router(probe: ChainProbe) -> APIRouter:
    r = APIRouter(tags=["health"])

    @r.get(
        "/healthz",
        summary="Database, chain, sequencer and anchoring lag",
        response_model=HealthOut,
        responses=problem_responses(500, 503),
    )
    def healthz(request: Request) -> HealthOut:
        log: MerkleLog = request.app.state.log
        try:
            database = health.database(log)
        except Exception as exc:
            raise Problem(503, "Service Unavailable", "The database is not reachable.") from exc
        try:
            anchor_lag = health.read_anchor_lag(log).as_json()
        except Exception as exc:  # e.g. a database not migrated yet
            anchor_lag = {"entries": None, "seconds": None, "error": type(exc).__name__}
        chain = probe.status()
        degraded = (
            chain.get("reachable") is False or "anchor_error" in chain or "error" in anchor_lag
        )
        return HealthOut(
            status="degraded" if degraded else "ok",
            database=database,
            chain=chain,
            sequencer=health.sequencer(log, request.app.state.anchorer),
            anchor_lag=anchor_lag,
        )

    @r.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses=_METRICS_DOC,
    )
    def prometheus(request: Request) -> Response:
        log: MerkleLog = request.app.state.log
        try:
            lag = health.read_anchor_lag(log)
        except Exception:  # the database is down: the counters are still worth scraping
            for gauge in (metrics.LOG_SIZE, metrics.ANCHOR_LAG_ENTRIES, metrics.ANCHOR_LAG_SECONDS):
                gauge.set(math.nan)
        else:
            metrics.LOG_SIZE.set(log.size())
            metrics.ANCHOR_LAG_ENTRIES.set(lag.entries)
            metrics.ANCHOR_LAG_SECONDS.set(math.nan if lag.seconds is None else lag.seconds)
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return r

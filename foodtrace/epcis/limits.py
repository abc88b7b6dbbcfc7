"""What one capture may cost: at most ``max_events_per_document`` events per document
(refused before any schema validation, key decryption or signing), and at most
``capture_concurrency`` documents captured at once per worker with ``capture_queue`` more
waiting; one more is answered 503 with ``Retry-After`` rather than queued without bound.
(The body itself is capped by :class:`foodtrace.api.limits.BodySizeLimit`.)"""

from __future__ import annotations

from typing import Any

from foodtrace.api.limits import Gate
from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.config import Settings

EVENT_LIST = "/epcisBody/eventList"


def event_count(document: object) -> int:
    """How many events the document lists (0 if it has no list: the schema says why)."""
    if not isinstance(document, dict):
        return 0
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    return len(events) if isinstance(events, list) else 0


def too_many_events(document: object, limit: int) -> Problem | None:
    """413 naming the event list when the document has more than ``limit`` events."""
    n = event_count(document)
    if n <= limit:
        return None
    return Problem(
        413,
        "Too many events",
        f"Nothing was captured: the document has {n} events, more than the limit of {limit} "
        "per document; split it into several documents.",
        problem_type("too-many-events"),
        [FieldProblem("/body" + EVENT_LIST, f"expected at most {limit} events, got {n}")],
    )


def capture_gate(settings: Settings) -> Gate:
    return Gate(
        max(settings.capture_concurrency, 1),
        max(settings.capture_queue, 0),
        "capture documents",
        retry_after=5.0,
    )


def gated(gate: Gate, work: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``work`` (on a worker thread) once one of the gate's slots is free."""
    with gate.slots:
        return work(*args, **kwargs)

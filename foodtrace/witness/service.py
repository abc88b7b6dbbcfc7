"""The witness's one operation: take an ``add-checkpoint`` request, decide (pure rules in
:mod:`foodtrace.trace.witnessing`), persist, and cosign."""

from __future__ import annotations

import time
from collections.abc import Callable

from foodtrace.trace.cosignature import cosign
from foodtrace.trace.witnessing import Refusal, Seen, judge, parse_request
from foodtrace.witness.state import WitnessState


def add_checkpoint(state: WitnessState, data: bytes, clock: Callable[[], float] = time.time) -> str:
    """The cosignature line for the submitted checkpoint; :class:`Refusal` otherwise.

    Nothing is written unless the checkpoint is cosigned."""
    request = parse_request(data)
    origin = request.note.split("\n", 1)[0]

    def decide(seen: Seen | None) -> tuple[Seen, str, str]:
        checkpoint = judge(request, state.config.logs, seen)
        line = cosign(checkpoint.body(), state.config.name, state.key, int(clock()))
        return Seen(checkpoint.size, checkpoint.root), request.note, line

    if origin not in state.config.logs:
        raise Refusal(404, f"unknown log origin {origin!r}")
    return state.update(origin, decide)

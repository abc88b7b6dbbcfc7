"""``POST /add-checkpoint`` over HTTP, as C2SP tlog-witness specifies (text bodies, the
status codes it prescribes, ``text/x.tlog.size`` on a 409). A plain Starlette app: this is
not the FoodTrace API, and a witness operator runs nothing of ours but this."""

from __future__ import annotations

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from foodtrace.trace.witnessing import SIZE_CONTENT_TYPE, Refusal
from foodtrace.witness.service import add_checkpoint
from foodtrace.witness.state import WitnessState

MAX_BODY_BYTES = 64 * 1024


def create_witness_app(state: WitnessState) -> Starlette:
    async def add(request: Request) -> Response:
        data = await request.body()
        if len(data) > MAX_BODY_BYTES:
            return PlainTextResponse("request body too large\n", status_code=413)
        try:
            line = await anyio.to_thread.run_sync(add_checkpoint, state, data)
        except Refusal as refusal:
            if refusal.status == 409 and refusal.known_size is not None:
                return Response(  # exactly this type: no "; charset" (Starlette adds one)
                    f"{refusal.known_size}\n",
                    status_code=409,
                    headers={"content-type": SIZE_CONTENT_TYPE},
                )
            return PlainTextResponse(refusal.reason + "\n", status_code=refusal.status)
        return PlainTextResponse(line)

    return Starlette(routes=[Route("/add-checkpoint", add, methods=["POST"])])

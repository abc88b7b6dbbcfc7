"""``POST /chain/rpc``: the embedded chain, read-only, for scanners and pages (CORS open).

Mounted only when the chain is embedded (``chain_url`` empty): with an external chain,
clients read that chain's own RPC, which the operator does not have to be trusted for.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from web3 import Web3

from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.config import CHAIN_RPC_PATH, Settings
from foodtrace.ledger import rpc

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "content-type",
    "Access-Control-Max-Age": "86400",
}
_EXAMPLE = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
_DOC = (
    "Ethereum JSON-RPC 2.0 (single or batch) over the chain embedded in this server, read-only: "
    f"{', '.join(rpc.METHODS)}. Any other method is refused with error -32601; a reverted "
    "eth_call answers error 3 with the revert data. At most "
    f"{rpc.MAX_REQUEST_BYTES} bytes and {rpc.MAX_BATCH} requests per body, and "
    f"{rpc.MAX_LOG_BLOCKS} blocks per eth_getLogs. The chain is run by this same server: it "
    "lets other programs check the demo, it does not make it independent."
)


def _too_large() -> Problem:
    limit = rpc.MAX_REQUEST_BYTES
    return Problem(
        413,
        "Content Too Large",
        f"A JSON-RPC body is at most {limit} bytes.",
        problem_type("too-large"),
        [FieldProblem("/body", f"expected at most {limit} bytes")],
        headers=CORS,
    )


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["chain"])
    if settings.chain_url:
        return r
    cache = rpc.ReadCache()  # per app: reads at an unchanged head are answered once

    def w3_of(request: Request) -> Any:
        def opened() -> Web3:
            w3: Web3 = request.app.state.chain.get().w3
            return w3

        return opened

    def head_of(request: Request) -> Any:
        def head() -> int:
            chain = request.app.state.chain.get()
            number: int = (
                chain.embedded.head_number() if chain.embedded else chain.w3.eth.block_number
            )
            return number

        return head

    @r.post(
        CHAIN_RPC_PATH,
        summary="Read the embedded chain over Ethereum JSON-RPC (read-only)",
        description=_DOC,
        response_class=JSONResponse,
        responses={
            200: {
                "description": "JSON-RPC response (object, or list for a batch); errors are "
                "JSON-RPC error objects",
                "content": {"application/json": {"schema": {}}},
            },
            204: {"description": "The body held only notifications (no ids): nothing to say"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {}, "example": _EXAMPLE}},
            }
        },
    )
    async def chain_rpc(request: Request) -> Response:
        body = await request.body()
        if len(body) > rpc.MAX_REQUEST_BYTES:
            raise _too_large()
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            error = rpc.RpcError(rpc.PARSE_ERROR, f"not JSON: {exc}").to_json()
            return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error}, headers=CORS)
        answer = await run_in_threadpool(
            rpc.answer, w3_of(request), parsed, cache, head_of(request)
        )
        if answer is None:
            return Response(status_code=204, headers=CORS)
        return JSONResponse(answer, headers=CORS)

    @r.options(
        CHAIN_RPC_PATH,
        summary="CORS preflight for the chain RPC",
        responses={204: {"description": "Browsers may POST JSON here from any origin"}},
        status_code=204,
    )
    def chain_rpc_preflight() -> Response:
        return Response(status_code=204, headers=CORS)

    return r

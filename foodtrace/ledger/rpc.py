"""The embedded chain, read-only, as a real Ethereum JSON-RPC endpoint.

The in-process chain lives inside the server's process, so no other process (the scanner, a
browser's badge, ``cast``) could read it. :func:`answer` serves the handful of read methods a
verifier needs from the process's one opener of that chain, in JSON-RPC 2.0 (single or batch)
and the node wire format (quantities as ``0x`` hex, data as ``0x`` hex, camelCase fields), so
a client written for a real node works unchanged. Everything else, above all every method
that could change state, is refused with -32601.

The chain is still run by the same server: this makes the demo checkable by other programs,
not independent. Independence needs a chain the operator does not control.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound

METHODS = (
    "eth_chainId",
    "eth_blockNumber",
    "eth_call",
    "eth_getCode",
    "eth_getLogs",
    "eth_getTransactionReceipt",
    "eth_getBlockByNumber",
)
MAX_REQUEST_BYTES = 64 * 1024
MAX_BATCH = 100
MAX_LOG_BLOCKS = 10_000  # eth_getLogs block range, inclusive
BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
CALL_FIELDS = ("to", "data", "input", "from", "gas")

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL = (
    -32700,
    -32600,
    -32601,
    -32602,
    -32603,
)
REVERTED = 3  # what geth and anvil answer for a reverted eth_call, with the revert data


class RpcError(Exception):
    """A JSON-RPC error object: ``code``, ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


# -- the wire format ----------------------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """web3's decoded answer in the node's wire format: ints are quantities, bytes are data."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} on the wire")


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(INVALID_PARAMS, f"{what}: expected a 0x hex quantity, got {value!r:.40}")


def _data(value: Any, what: str, size: int | None = None) -> HexBytes:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            raw = HexBytes(value)
        except ValueError:
            raw = None
        if raw is not None and (size is None or len(raw) == size):
            return raw
    expected = f"{size} bytes of" if size else "0x"
    raise RpcError(INVALID_PARAMS, f"{what}: expected {expected} hex data, got {value!r:.80}")


def _topic(value: Any) -> str:
    """A topic as eth-tester matches it: 0x hex text (given as bytes, it matches nothing)."""
    return "0x" + bytes(_data(value, "topic", 32)).hex()


def _address(value: Any, what: str) -> ChecksumAddress:
    return Web3.to_checksum_address(_data(value, what, 20))


def block_id(value: Any, head: int) -> int:
    """A block tag or number as a number not above ``head`` (one node: all tags are the head,
    except ``earliest``)."""
    if value is None or value in ("latest", "pending", "safe", "finalized"):
        return head
    if value == "earliest":
        return 0
    number = _quantity(value, "block")
    if number > head:
        raise RpcError(INVALID_PARAMS, f"block {number} is beyond the head {head}")
    return number


def _params(params: Any, least: int, most: int, method: str) -> list[Any]:
    if params is None:
        params = []
    if not isinstance(params, list) or not least <= len(params) <= most:
        count = str(least) if least == most else f"{least} to {most}"
        raise RpcError(INVALID_PARAMS, f"{method}: expected a list of {count} params")
    return params + [None] * (most - len(params))


def log_filter(spec: Any, head: int) -> dict[str, Any]:
    """An ``eth_getLogs`` filter for web3, its block range resolved and bounded."""
    if not isinstance(spec, dict):
        raise RpcError(INVALID_PARAMS, "eth_getLogs: expected a filter object")
    unknown = set(spec) - {"address", "topics", "fromBlock", "toBlock", "blockHash"}
    if unknown:
        raise RpcError(INVALID_PARAMS, f"eth_getLogs: unknown filter fields {sorted(unknown)}")
    out: dict[str, Any] = {}
    if "blockHash" in spec:
        if "fromBlock" in spec or "toBlock" in spec:
            raise RpcError(INVALID_PARAMS, "eth_getLogs: blockHash excludes fromBlock/toBlock")
        out["blockHash"] = _data(spec["blockHash"], "blockHash", 32)
    else:
        start = block_id(spec.get("fromBlock"), head)
        end = block_id(spec.get("toBlock"), head)
        if end < start:
            raise RpcError(
                INVALID_PARAMS, f"eth_getLogs: toBlock {end} is before fromBlock {start}"
            )
        if end - start + 1 > MAX_LOG_BLOCKS:
            raise RpcError(
                INVALID_PARAMS,
                f"eth_getLogs: at most {MAX_LOG_BLOCKS} blocks per query, asked {end - start + 1}",
            )
        out["fromBlock"], out["toBlock"] = start, end
    if spec.get("address") is not None:
        addresses = spec["address"] if isinstance(spec["address"], list) else [spec["address"]]
        out["address"] = [_address(a, "address") for a in addresses]
    if spec.get("topics") is not None:
        topics = spec["topics"]
        if not isinstance(topics, list) or len(topics) > 4:
            raise RpcError(INVALID_PARAMS, "eth_getLogs: topics is a list of at most 4")
        out["topics"] = [
            None if t is None else [_topic(x) for x in t] if isinstance(t, list) else _topic(t)
            for t in topics
        ]
    return out


# -- the methods ----------------------------------------------------------------------------------


def _call(w3: Web3, params: list[Any], head: int, cache: ReadCache) -> Any:
    tx, block = params
    if not isinstance(tx, dict) or "to" not in tx:
        raise RpcError(INVALID_PARAMS, "eth_call: expected a call object with 'to'")
    unknown = set(tx) - set(CALL_FIELDS) - {"value", "gasPrice"}
    if unknown or int(str(tx.get("value") or "0x0"), 16):
        raise RpcError(INVALID_PARAMS, "eth_call: only to, data, from and gas are accepted")
    call: dict[str, Any] = {"to": _address(tx["to"], "to")}
    # py-evm charges even a call's gas to its sender: without one, a funded account calls.
    call["from"] = _address(tx["from"], "from") if tx.get("from") else cache.caller(w3)
    call["data"] = _data(tx.get("data") or tx.get("input") or "0x", "data")
    if tx.get("gas") is not None:
        call["gas"] = _quantity(tx["gas"], "gas")
    try:
        return w3.eth.call(call, block_id(block, head))  # type: ignore[arg-type]
    except ContractLogicError as exc:
        data = exc.data.get("data") if isinstance(exc.data, dict) else exc.data
        reverted = RpcError(REVERTED, "execution reverted", data if isinstance(data, str) else None)
        raise reverted from exc


def _code(w3: Web3, params: list[Any], head: int, _: ReadCache) -> Any:
    address = _address(params[0], "address")
    return w3.eth.get_code(address, block_id(params[1], head))


def _logs(w3: Web3, params: list[Any], head: int, _: ReadCache) -> Any:
    return w3.eth.get_logs(log_filter(params[0], head))  # type: ignore[arg-type]


def _receipt(w3: Web3, params: list[Any], _head: int, _: ReadCache) -> Any:
    try:
        return w3.eth.get_transaction_receipt(_data(params[0], "transaction hash", 32))
    except TransactionNotFound:
        return None


def _block(w3: Web3, params: list[Any], head: int, _: ReadCache) -> Any:
    number = block_id(params[0], head)
    if not isinstance(params[1], bool):
        raise RpcError(INVALID_PARAMS, "eth_getBlockByNumber: second param is a boolean")
    try:
        return w3.eth.get_block(number, full_transactions=params[1])
    except BlockNotFound:
        return None


Handler = Callable[[Web3, list[Any], int, "ReadCache"], Any]
HANDLERS: dict[str, tuple[int, int, Handler]] = {
    "eth_chainId": (0, 0, lambda w3, _p, _h, cache: cache.chain_id(w3)),
    "eth_blockNumber": (0, 0, lambda _w3, _p, head, _c: head),
    "eth_call": (1, 2, _call),
    "eth_getCode": (1, 2, _code),
    "eth_getLogs": (1, 1, _logs),
    "eth_getTransactionReceipt": (1, 1, _receipt),
    "eth_getBlockByNumber": (2, 2, _block),
}


class ReadCache:
    """Answers keyed by the block they were read at: a mined block's state never changes
    (the embedded chain is persistent and never reorganises: ``reset_to_genesis`` is
    refused), so the node's reads are pure functions of (method, params with every block
    tag resolved to its number). A read at ``latest`` is keyed by the head's number, so it
    is answered from here only while the head has not moved; a read naming a mined block
    (``eth_call`` at block N, ``eth_getLogs`` over a mined range, a block by number) stays
    answerable after new blocks. A scanner's repeated ``eth_call`` of a root costs one
    py-evm execution per block, not one per request. At most ``max_entries`` answers, the
    least recently used dropped first; the chain id and the funded caller never change for
    an opened chain."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._answers: OrderedDict[str, Any] = OrderedDict()
        self._chain_id: int | None = None
        self._caller: ChecksumAddress | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def chain_id(self, w3: Web3) -> int:
        if self._chain_id is None:
            self._chain_id = int(w3.eth.chain_id)
        return self._chain_id

    def caller(self, w3: Web3) -> ChecksumAddress:
        if self._caller is None:
            self._caller = w3.eth.accounts[0]
        return self._caller

    def lookup(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self._answers:
                self.hits += 1
                self._answers.move_to_end(key)
                return True, self._answers[key]
            self.misses += 1
            return False, None

    def store(self, key: str, result: Any) -> None:
        with self._lock:
            self._answers[key] = result
            self._answers.move_to_end(key)
            while len(self._answers) > self.max_entries:
                self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)


CACHED = ("eth_call", "eth_getCode", "eth_getLogs", "eth_getBlockByNumber")


def at_block(method: str, params: list[Any], head: int) -> list[Any]:
    """``params`` with every block tag or number resolved to the number it names at
    ``head``: the cache key of a read (raises :class:`RpcError` as the read would)."""
    if method in ("eth_call", "eth_getCode"):
        return [params[0], block_id(params[1], head)]
    if method == "eth_getBlockByNumber":
        return [block_id(params[0], head), params[1]]
    spec = params[0]  # eth_getLogs
    if not isinstance(spec, dict) or "blockHash" in spec:
        return [spec]
    start, end = block_id(spec.get("fromBlock"), head), block_id(spec.get("toBlock"), head)
    return [{**spec, "fromBlock": start, "toBlock": end}]


def _run(w3: Web3, method: str, given: Any, head: int, cache: ReadCache) -> Any:
    """The wire answer to one method call, from the cache when it was read at that block."""
    least, most, run = HANDLERS[method]
    params = _params(given, least, most, method)
    if method not in CACHED:
        return to_wire(run(w3, params, head, cache))
    key = method + json.dumps(at_block(method, params, head), sort_keys=True, separators=(",", ":"))
    found, result = cache.lookup(key)
    if not found:
        result = to_wire(run(w3, params, head, cache))
        cache.store(key, result)
    return result


def _one(
    w3: Callable[[], Web3], request: Any, head: Callable[[], int], cache: ReadCache
) -> dict[str, Any] | None:
    """The response to one request object (None for a notification: no ``id``)."""
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
        return {
            "jsonrpc": "2.0",
            "id": None,
            "error": RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 request").to_json(),
        }
    rid = request.get("id")
    if not isinstance(rid, str | int | type(None)) or isinstance(rid, bool):
        rid = None
    try:
        method = request.get("method")
        if not isinstance(method, str):
            raise RpcError(INVALID_REQUEST, "method must be a string")
        handler = HANDLERS.get(method)
        if handler is None:
            raise RpcError(
                METHOD_NOT_FOUND,
                f"method {method!r:.60} is not served: this endpoint is read-only "
                f"({', '.join(METHODS)})",
            )
        result = _run(w3(), method, request.get("params"), head(), cache)
    except RpcError as exc:
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "error": exc.to_json()}
    except Exception as exc:  # the chain failed: say so, never a half answer
        response = {
            "jsonrpc": "2.0",
            "id": rid,
            "error": RpcError(INTERNAL, f"chain error: {exc}").to_json(),
        }
    else:
        response = {"jsonrpc": "2.0", "id": rid, "result": result}
    return response if "id" in request else None


def answer(
    w3: Callable[[], Web3],
    body: Any,
    cache: ReadCache | None = None,
    head_number: Callable[[], int] | None = None,
) -> Any:
    """The JSON-RPC response to a parsed body: an object, a list for a batch, or None when
    there is nothing to answer (notifications only). ``w3`` opens the chain on first use.
    The head is read once per body, so a batch is answered at one block; ``head_number``
    (optional) reads it more cheaply than ``eth_blockNumber`` through web3, which is most of
    the cost of an answer from the cache."""
    cache = cache if cache is not None else ReadCache()
    heads: list[int] = []
    read_head = head_number or (lambda: int(w3().eth.block_number))

    def head() -> int:
        if not heads:
            heads.append(read_head())
        return heads[0]

    if isinstance(body, list):
        if not body or len(body) > MAX_BATCH:
            error = RpcError(INVALID_REQUEST, f"a batch holds 1 to {MAX_BATCH} requests")
            return {"jsonrpc": "2.0", "id": None, "error": error.to_json()}
        answers = [a for a in (_one(w3, r, head, cache) for r in body) if a is not None]
        return answers or None
    return _one(w3, body, head, cache)

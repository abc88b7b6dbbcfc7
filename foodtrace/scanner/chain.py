"""Reading TraceAnchor over plain JSON-RPC: the scanner's whole view of the chain.

No web3, no py-evm, nothing of the server's: an ``eth_call`` is a POST of a selector and
32-byte words, and the answer is 32-byte words. The three views the scanner needs have fixed
selectors (the first 4 bytes of the Keccak-256 of their signatures; a test recomputes them
from the committed ABI). One keep-alive HTTP client per run; each anchored size is read once
per run (records share checkpoints), as are the latest anchor and the pinned log key.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx

TIMEOUT_S = 10.0
# keccak256(signature)[:4] of the TraceAnchor views read here.
SELECTORS = {
    "anchorAt(bytes32,uint64)": "8c0d6778",
    "latest(bytes32)": "79feb107",
    "logKeyHash(bytes32)": "9d21e627",
}
ZERO = b"\x00" * 32
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class ChainReadError(LookupError):
    """The chain did not answer a read (unreachable, a JSON-RPC error, a malformed answer)."""


def is_address(text: str) -> bool:
    return bool(_ADDRESS.match(text))


def _word(value: int | bytes) -> str:
    raw = value.to_bytes(32, "big") if isinstance(value, int) else value.rjust(32, b"\x00")
    return raw.hex()


def call_data(signature: str, *args: int | bytes) -> str:
    """ABI encoding of a call with static arguments (bytes32 and uints): selector + words."""
    return "0x" + SELECTORS[signature] + "".join(_word(a) for a in args)


class RpcClient:
    """JSON-RPC 2.0 over one keep-alive HTTP client."""

    def __init__(self, url: str, *, client: httpx.Client | None = None) -> None:
        self.url = url
        self._client = client or httpx.Client(timeout=TIMEOUT_S)
        self._ids = iter(range(1, 1 << 62))
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, params: list[Any]) -> Any:
        with self._lock:
            rid = next(self._ids)
        body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        try:
            response = self._client.post(self.url, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainReadError(f"{method} at {self.url}: {exc}") from exc
        if not isinstance(answer, dict) or answer.get("id") != rid:
            raise ChainReadError(f"{method} at {self.url}: not a JSON-RPC answer to request {rid}")
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise ChainReadError(
                f"{method} at {self.url}: error {error.get('code')}: {error.get('message')}"
            )
        return answer.get("result")

    def call(self, to: str, data: str) -> bytes:
        result = self.request("eth_call", [{"to": to, "data": data}, "latest"])
        if not isinstance(result, str) or not result.startswith("0x"):
            raise ChainReadError(f"eth_call to {to}: expected hex data, got {result!r:.60}")
        try:
            return bytes.fromhex(result[2:])
        except ValueError as exc:
            raise ChainReadError(f"eth_call to {to}: {exc}") from exc


class ContractReader:
    """One log's anchors in one TraceAnchor contract (an ``AnchorSource``), cached per run."""

    def __init__(self, rpc: RpcClient, address: str, log: bytes) -> None:
        self.rpc, self.address, self.log = rpc, address, log
        self._roots: dict[int, bytes | None] = {}
        self._latest: tuple[int, bytes] | None = None
        self._key_hash: bytes | None = None
        self.reads = 0  # chain round trips, for the benchmark

    def _words(self, signature: str, *args: int | bytes, count: int) -> list[bytes]:
        self.reads += 1
        raw = self.rpc.call(self.address, call_data(signature, *args))
        if len(raw) != 32 * count:
            raise ChainReadError(
                f"{signature} at {self.address}: {len(raw)} bytes, expected {32 * count} "
                "(is this a TraceAnchor contract?)"
            )
        return [raw[32 * i : 32 * (i + 1)] for i in range(count)]

    def root_at(self, size: int) -> bytes | None:
        if size not in self._roots:
            root = self._words("anchorAt(bytes32,uint64)", self.log, size, count=3)[0]
            self._roots[size] = None if root == ZERO else root
        return self._roots[size]

    def latest(self) -> tuple[int, bytes]:
        if self._latest is None:
            size, root = self._words("latest(bytes32)", self.log, count=2)
            self._latest = (int.from_bytes(size, "big"), root)
        return self._latest

    def log_key_hash(self) -> bytes:
        if self._key_hash is None:
            self._key_hash = self._words("logKeyHash(bytes32)", self.log, count=1)[0]
        return self._key_hash

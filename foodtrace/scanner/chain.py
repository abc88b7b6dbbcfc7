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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

TIMEOUT_S = 10.0
# keccak256(signature)[:4] of the TraceAnchor views read here.
SELECTORS = {
    "anchorAt(bytes32,uint64)": "8c0d6778",
    "latest(bytes32)": "79feb107",
    "logKeyHash(bytes32)": "9d21e627",
}
# keccak256("LogKeyRotated(bytes32,bytes32,bytes32)"): topic 0 of a log key rotation.
LOG_KEY_ROTATED = "0x3cfa534aa715e5da59b7aae648d23f8956e0ed0d3b7810558d9e052e6a0c4fe9"
LOG_BLOCKS = 10_000  # eth_getLogs block range per query (nodes refuse wide ones)
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

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several requests in one JSON-RPC batch (one HTTP round trip); the results in order.
        Any error answer fails the whole batch."""
        with self._lock:
            ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": rid, "method": m, "params": p}
            for rid, (m, p) in zip(ids, calls, strict=True)
        ]
        names = ", ".join(dict.fromkeys(m for m, _ in calls))
        try:
            response = self._client.post(self.url, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainReadError(f"batch of {names} at {self.url}: {exc}") from exc
        if not isinstance(answer, list):
            raise ChainReadError(f"batch of {names} at {self.url}: not a JSON-RPC batch answer")
        by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
        results = []
        for rid, (method, _) in zip(ids, calls, strict=True):
            one = by_id.get(rid)
            if one is None:
                raise ChainReadError(f"{method} at {self.url}: no answer to request {rid}")
            if "error" in one:
                error = one["error"] if isinstance(one["error"], dict) else {}
                raise ChainReadError(
                    f"{method} at {self.url}: error {error.get('code')}: {error.get('message')}"
                )
            results.append(one.get("result"))
        return results

    def call(self, to: str, data: str) -> bytes:
        return _hex(self.request("eth_call", [{"to": to, "data": data}, "latest"]), to)


def _hex(result: Any, to: str) -> bytes:
    if not isinstance(result, str) or not result.startswith("0x"):
        raise ChainReadError(f"eth_call to {to}: expected hex data, got {result!r:.60}")
    try:
        return bytes.fromhex(result[2:])
    except ValueError as exc:
        raise ChainReadError(f"eth_call to {to}: {exc}") from exc


@dataclass
class ChainReads:
    """What one contract answered for one log that a run may keep: the roots it anchored
    (a size is anchored once: ``anchor`` refuses a size not above the latest, so an anchored
    root never changes), the log key's hash and its rotations (read once per run). Several
    readers may share one (:mod:`foodtrace.scanner.facts`); an unanchored size and the
    latest anchor are never kept here, since a later anchor changes them."""

    roots: dict[int, bytes] = field(default_factory=dict)
    key_hash: bytes | None = None
    rotations: list[tuple[bytes, bytes]] | None = None


class ContractReader:
    """One log's anchors in one TraceAnchor contract (an ``AnchorSource``). Anchored roots
    and the log key are kept in ``known`` (shared by the run's readers when given); a size
    found unanchored is remembered by this reader only."""

    def __init__(
        self, rpc: RpcClient, address: str, log: bytes, *, known: ChainReads | None = None
    ) -> None:
        self.rpc, self.address, self.log = rpc, address, log
        self.known = known if known is not None else ChainReads()
        self._unanchored: set[int] = set()
        self._latest: tuple[int, bytes] | None = None
        self.reads = 0  # chain round trips, for the benchmark

    def sharing(self, known: ChainReads) -> ContractReader:
        """A reader of the same contract, log and RPC client that keeps its reads in
        ``known``."""
        return ContractReader(self.rpc, self.address, self.log, known=known)

    def _words(self, signature: str, *args: int | bytes, count: int) -> list[bytes]:
        self.reads += 1
        return self._split(
            signature, self.rpc.call(self.address, call_data(signature, *args)), count
        )

    def _split(self, signature: str, raw: bytes, count: int) -> list[bytes]:
        if len(raw) != 32 * count:
            raise ChainReadError(
                f"{signature} at {self.address}: {len(raw)} bytes, expected {32 * count} "
                "(is this a TraceAnchor contract?)"
            )
        return [raw[32 * i : 32 * (i + 1)] for i in range(count)]

    def _read(self, size: int) -> bool:
        return size in self.known.roots or size in self._unanchored

    def _keep(self, size: int, root: bytes) -> None:
        if root == ZERO:
            self._unanchored.add(size)
        else:
            self.known.roots[size] = root

    def root_at(self, size: int) -> bytes | None:
        if not self._read(size):
            self._keep(size, self._words("anchorAt(bytes32,uint64)", self.log, size, count=3)[0])
        return self.known.roots.get(size)

    def latest(self) -> tuple[int, bytes]:
        if self._latest is None:
            size, root = self._words("latest(bytes32)", self.log, count=2)
            self._latest = (int.from_bytes(size, "big"), root)
        return self._latest

    def log_key_hash(self) -> bytes:
        if self.known.key_hash is None:
            self.known.key_hash = self._words("logKeyHash(bytes32)", self.log, count=1)[0]
        return self.known.key_hash

    def prefetch(self, sizes: Iterable[int]) -> None:
        """Read the pinned log key and the roots at ``sizes`` (those not read yet) in one
        batched round trip: a code's whole chain step. Same answers as reading them one by
        one; nothing is read twice in a run."""
        sizes = [s for s in dict.fromkeys(sizes) if not self._read(s)]
        calls: list[tuple[str, int | None]] = [("anchorAt(bytes32,uint64)", s) for s in sizes]
        if self.known.key_hash is None:
            calls.append(("logKeyHash(bytes32)", None))
        if not calls:
            return
        self.reads += 1
        raw = self.rpc.batch(
            [
                (
                    "eth_call",
                    [
                        {
                            "to": self.address,
                            "data": call_data(sig, self.log, *(() if arg is None else (arg,))),
                        },
                        "latest",
                    ],
                )
                for sig, arg in calls
            ]
        )
        for (sig, arg), result in zip(calls, raw, strict=True):
            if arg is None:
                self.known.key_hash = self._split(sig, _hex(result, self.address), 1)[0]
            else:
                self._keep(arg, self._split(sig, _hex(result, self.address), 3)[0])

    def key_rotations(self) -> list[tuple[bytes, bytes]]:
        """Every ``LogKeyRotated(log, old, new)`` of this log, oldest first, as (old, new)
        key hashes: read with ``eth_getLogs`` in ranges of :data:`LOG_BLOCKS` blocks."""
        if self.known.rotations is None:
            head = _quantity(self.rpc.request("eth_blockNumber", []), "eth_blockNumber")
            found: list[tuple[bytes, bytes]] = []
            for start in range(0, head + 1, LOG_BLOCKS):
                self.reads += 1
                logs = self.rpc.request(
                    "eth_getLogs",
                    [
                        {
                            "address": self.address,
                            "topics": [LOG_KEY_ROTATED, "0x" + self.log.hex()],
                            "fromBlock": hex(start),
                            "toBlock": hex(min(start + LOG_BLOCKS - 1, head)),
                        }
                    ],
                )
                if not isinstance(logs, list):
                    raise ChainReadError(f"eth_getLogs at {self.address}: expected a list")
                for entry in logs:
                    data = _hex(
                        entry.get("data") if isinstance(entry, dict) else None, self.address
                    )
                    if len(data) != 64:
                        raise ChainReadError(f"LogKeyRotated with {len(data)} bytes of data")
                    found.append((data[:32], data[32:]))
            self.known.rotations = found
        return self.known.rotations


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise ChainReadError(f"{what}: expected a 0x hex quantity, got {value!r:.40}")

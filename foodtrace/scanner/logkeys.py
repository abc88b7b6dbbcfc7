"""Which log keys the scanner verifies checkpoints with: the pinned one, and the keys the
chain announced after it.

The pin is the log's verifier key (or the key registered for it on chain). A log's key may be
rotated, but only on chain: ``rotateLogKey`` emits ``LogKeyRotated(log, old, new)``. When the
contract pins another key than ours, the scanner reads that history (``eth_getLogs``) and
accepts the key the server offers only if the history links it to the pinned key
(:func:`foodtrace.trace.logkey.announced_keys`); a key the chain never announced is refused,
however well it signs. The chain's answers are read once per run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from foodtrace.scanner.chain import ContractReader
from foodtrace.trace.checkpoint import parse_verifier_key
from foodtrace.trace.errors import CheckpointError, VerificationError
from foodtrace.trace.logkey import announced_keys, log_key_hash


@dataclass
class KeyDecisions:
    """The keys checked against the chain and the answer for each offered key, for one
    pinned key and one contract (shared by the run's scanners with those pins)."""

    accepted: list[str] = field(default_factory=list)
    results: dict[str, str | VerificationError] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class LogKeys:
    """The pinned key and the chain: the keys to trust, decided once per offered key."""

    def __init__(
        self, pinned: str, anchors: ContractReader, known: KeyDecisions | None = None
    ) -> None:
        self.pinned = pinned
        self.name = parse_verifier_key(pinned).name
        self.anchors = anchors
        known = known if known is not None else KeyDecisions()
        self._accepted, self._results, self._lock = known.accepted, known.results, known.lock

    @property
    def accepted(self) -> list[str]:
        """The verifier keys checked against the chain so far (empty before any check)."""
        with self._lock:
            return list(self._accepted)

    def check(self, offered: str = "") -> str:
        """What was checked (a note), or raise :class:`VerificationError` or
        :class:`~foodtrace.scanner.chain.ChainReadError` (not cached: the node may come
        back). ``offered`` is the key the server says it signs with."""
        with self._lock:
            known = self._results.get(offered)
            if known is None:
                try:
                    known = self._check(offered)
                except VerificationError as exc:
                    known = exc
                self._results[offered] = known
        if isinstance(known, VerificationError):
            raise known
        return known

    def _accept(self, vkey: str) -> None:
        if vkey not in self._accepted:
            self._accepted.append(vkey)

    def _check(self, offered: str) -> str:
        on_chain = self.anchors.log_key_hash()
        pinned = log_key_hash(self.pinned)
        if on_chain == pinned:
            self._accept(self.pinned)
            return f"the chain pins log key {self.name!r} we use"
        line = announced_keys(pinned, self.anchors.key_rotations(), on_chain)
        if not offered:
            raise CheckpointError(
                f"the chain rotated the pinned log key to 0x{on_chain.hex()} "
                "(LogKeyRotated), and the server offered no log key to check against it"
            )
        key = parse_verifier_key(offered)
        if key.name != self.name:
            raise CheckpointError(
                f"the server's log key is named {key.name!r}, the pinned one {self.name!r}"
            )
        got = log_key_hash(key)
        if got not in line:
            raise CheckpointError(
                f"the server's log key hashes to 0x{got.hex()}, which the chain never "
                f"announced after the pinned key 0x{pinned.hex()} (LogKeyRotated history: "
                f"{' → '.join('0x' + h.hex()[:16] for h in line)}): refused"
            )
        self._accept(self.pinned)  # it signed the checkpoints before the rotation
        self._accept(offered)
        return (
            f"the chain rotated the pinned key {len(line) - 1} time(s) (LogKeyRotated) to "
            f"0x{on_chain.hex()[:16]}…; the server's key 0x{got.hex()[:16]}… is one of them"
        )

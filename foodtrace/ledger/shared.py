"""The process's one opener of the embedded chain, shared by the anchorer and the RPC view.

The embedded chain's file admits one process at a time (a second opener gets a
``ChainError`` rather than a fork). Inside the server, the anchorer writes to it and
``POST /chain/rpc`` reads from it, so both must use the same open chain: this holder opens it
on first use, under a lock, and closes it once at shutdown.
"""

from __future__ import annotations

import threading

from foodtrace.config import Settings
from foodtrace.ledger.chain import Chain, connect_embedded


class SharedChain:
    """Opens ``settings.chain_db_path`` at most once for this process."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.chain_db_path
        self._chain: Chain | None = None
        self._lock = threading.Lock()

    def get(self) -> Chain:
        with self._lock:
            if self._chain is None or self._chain.embedded is None:
                self._chain = connect_embedded(self.path)
            return self._chain

    def close(self) -> None:
        with self._lock:
            if self._chain is not None:
                self._chain.close()
                self._chain = None

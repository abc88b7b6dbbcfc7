"""A short-lived microcache for resolved pages.

A label on a shelf is scanned by many phones at once, and each scan would rebuild the same
page from a dozen queries and a proof per record. Within a second or two the answer cannot
change unless the log grows, so a resolved page is reused for ``ttl`` seconds under a key
that names the URL (with the code's signature, so only a URL that verified is ever served
from here), the negotiated format and the log's latest checkpoint size: a new checkpoint
makes a new key at once. Only what is the same for every scanner is cached; the scan count
is added per request by the caller.

An entry past its TTL is kept as long again, so :meth:`MicroCache.lookup` can hand it out
as stale while one caller rebuilds it (a proxy's "serve stale while updating"): no request
waits for a rebuild, and no page is ever more than twice the TTL old.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

MAX_ENTRIES = 1024  # pages held at once; the oldest goes first

V = TypeVar("V")


class MicroCache(Generic[V]):
    """Values kept for ``ttl`` seconds (0: nothing is kept), at most ``max_entries``."""

    def __init__(
        self,
        ttl: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key`` if it is younger than the TTL."""
        found = self.lookup(key)
        return found[0] if found is not None and found[1] else None

    def lookup(self, key: Hashable) -> tuple[V, bool] | None:
        """The value under ``key`` and whether it is fresh (younger than the TTL); a stale
        one (younger than twice the TTL) is for serving while it is being rebuilt."""
        if not self.enabled:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            now = self._clock()
            if now >= expires + self.ttl:
                del self._items[key]
                return None
            return value, now < expires

    def put(self, key: Hashable, value: V) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (self._clock() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

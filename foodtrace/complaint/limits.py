"""A per-client sliding-window rate limit for public writes, held in memory.

Client addresses live only in this process's memory, for at most one window, and are never
written anywhere: the limit is a nuisance brake for one worker, not an identity record.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_TRACKED_CLIENTS = 100_000


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key; ``clock`` is injectable."""

    def __init__(
        self,
        limit: int,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float | None:
        """None if the event may go ahead (and count it), else seconds until it may."""
        now = self.clock()
        with self._lock:
            if len(self._events) > MAX_TRACKED_CLIENTS:
                self._prune(now)
            times = self._events.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return max(times[0] + self.window - now, 0.0)
            times.append(now)
            return None

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._events.items() if not t or t[-1] <= now - self.window]:
            del self._events[key]

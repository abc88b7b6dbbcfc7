"""Capture processes: a small bounded process pool per serving process that runs
:func:`foodtrace.epcis.preparation.prepare_capture`, so the CPU work of a capture does not
compete for the GIL with the pages this worker serves.

Started on the first capture (``forkserver``: the children do not inherit the server's
threads, sockets or database connections), ``capture_processes`` of them (default 1); the
capture gate already bounds how many documents wait for one. A child that dies takes only
the capture it was doing: that capture is answered 503 and the next one starts a new pool.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from foodtrace.api.limits import busy
from foodtrace.epcis.preparation import PreparedCapture, Refusal, prepare_capture

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}


def _pool(processes: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(processes)
        if pool is None:
            context = multiprocessing.get_context("forkserver")
            pool = ProcessPoolExecutor(max_workers=processes, mp_context=context)
            _pools[processes] = pool
        return pool


def _discard(processes: int, pool: ProcessPoolExecutor) -> None:
    with _lock:
        if _pools.get(processes) is pool:
            del _pools[processes]
    pool.shutdown(wait=False, cancel_futures=True)


def prepare(
    processes: int,
    raw: bytes,
    content_type: str,
    max_events: int,
    party_id: str,
    private_key: bytes | None,
) -> PreparedCapture | Refusal:
    """:func:`prepare_capture` in a capture process (on this thread when ``processes`` is
    0); 503 if the process died meanwhile."""
    args = (raw, content_type, max_events, party_id, private_key)
    if processes <= 0:
        return prepare_capture(*args)
    pool = _pool(processes)
    try:
        return pool.submit(prepare_capture, *args).result()
    except BrokenProcessPool as exc:
        _discard(processes, pool)
        raise busy("The capture process stopped; send the document again.", 1.0) from exc


def shutdown(wait: bool = True) -> None:
    """Stop every capture process (tests, and a server shutting down: ``wait=False`` lets a
    child finish the document it is on and exit, without holding the shutdown)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=wait, cancel_futures=True)

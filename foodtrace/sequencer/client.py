"""The worker's side: queue a checked group, wait until the sequencer integrated it.

A :class:`SequencedLog` is a :class:`MerkleLog` (reads, proofs and checkpoints are the
same) whose registered-entry appends and bulk ingests go through the durable queue: a
queued group ``NOTIFY``\\ s the idle sequencer in the same transaction. One waiter thread per
process ``LISTEN``\\ s for the sequencer's ``NOTIFY`` and, on each wake-up (or every
``WAKE_S`` if a notification was missed while reconnecting), reads and deletes the answered
rows of every group this process waits for, in one query.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import psycopg

from foodtrace.config import Settings
from foodtrace.sequencer.models import INTEGRATED, PENDING, plain_leaves
from foodtrace.sequencer.refusal import SequencerUnavailable, refusal_of
from foodtrace.sequencer.sequencer import CHANNEL, QUEUED_CHANNEL, conninfo
from foodtrace.store.leaves import Leaves, is_meta
from foodtrace.store.log import MerkleLog
from foodtrace.trace.entry import Entry

log_ = logging.getLogger(__name__)

WAKE_S = 0.05
RECONNECT_WAIT_S = 0.2


class SequencedLog(MerkleLog):
    """The log as a worker sees it when the elected sequencer does the appends."""

    def __init__(self, url: str | None = None, *, settings: Settings | None = None) -> None:
        super().__init__(url, settings=settings, migrate=False)
        if self.sqlite:
            raise ValueError("a sequenced log needs PostgreSQL: SQLite keeps one writer")
        self.wait_s = self.settings.sequencer_wait_s
        self._waiting: dict[int, tuple[Future[range], float]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._waiter = threading.Thread(target=self._wait_loop, name="sequenced", daemon=True)
        self._waiter.start()

    def append_registered(self, entries: Sequence[Entry]) -> range:
        """Queue ``entries`` as one atomic group projected by the registry, and wait for the
        sequencer's answer: their indices, or :class:`~foodtrace.sequencer.refusal.
        EntryRefused` / ``StoredConflict`` exactly as the single-process path raises them.
        :class:`SequencerUnavailable` after ``sequencer_wait_s`` without an answer."""
        leaves = json.dumps([e.leaf_data().decode() for e in entries])
        return self._enqueue_group(leaves, len(entries)).result()

    def submit_leaves(self, leaves: Leaves) -> Future[range]:
        """Queue entries this worker checked and verified (bulk ingest): the sequencer appends
        them without projections, each its own group, as :meth:`MerkleLog.submit_leaves`
        does in one process. The future gives their indices once integrated (or raises
        :class:`SequencerUnavailable` after ``sequencer_wait_s``)."""
        n = len(leaves.datas)
        metas = [leaves.metas] * n if is_meta(leaves.metas) else leaves.metas
        return self._enqueue_group(plain_leaves(leaves.datas, metas), n)  # type: ignore[arg-type]

    def _enqueue_group(self, leaves: str, count: int) -> Future[range]:
        """Put one group on the queue and wake the sequencer, in one transaction."""
        future: Future[range] = Future()
        try:
            with self.engine.begin() as conn:
                row_id = int(
                    conn.exec_driver_sql(
                        "INSERT INTO sequencer_queue (leaves, state, count, enqueued_at) "
                        "VALUES (%s, %s, %s, now()) RETURNING id",
                        (leaves, PENDING, count),
                    ).scalar_one()
                )
                conn.exec_driver_sql(f"NOTIFY {QUEUED_CHANNEL}")
                with self._lock:
                    self._waiting[row_id] = (future, time.monotonic() + self.wait_s)
        except Exception as exc:
            raise SequencerUnavailable(f"could not queue the group: {exc}") from exc
        self._wake.set()
        return future

    def _wait_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            self._expire()
            try:
                if conn is None:
                    conn = psycopg.connect(conninfo(self.url), autocommit=True)
                    conn.execute(f"LISTEN {CHANNEL}")
                with self._lock:
                    ids = list(self._waiting)
                if not ids:
                    self._wake.wait(WAKE_S)
                    self._wake.clear()
                    continue
                for _ in conn.notifies(timeout=WAKE_S, stop_after=1):
                    pass
                self._answer(conn, ids)
            except psycopg.Error as exc:
                log_.warning("waiting for the sequencer: %s", exc.__class__.__name__)
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(RECONNECT_WAIT_S)
        if conn is not None:
            conn.close()

    def _expire(self) -> None:
        """Fail the waits that outlived ``sequencer_wait_s``: the client must retry."""
        now = time.monotonic()
        with self._lock:
            late = [(i, f) for i, (f, deadline) in self._waiting.items() if deadline < now]
            for row_id, _ in late:
                del self._waiting[row_id]
        for row_id, future in late:
            future.set_exception(
                SequencerUnavailable(
                    f"no sequencer integrated the group within {self.wait_s:g} s (queue row "
                    f"{row_id}); it may still be: retry with the same entries"
                )
            )

    def _answer(self, conn: psycopg.Connection[Any], ids: list[int]) -> None:
        rows = conn.execute(
            "DELETE FROM sequencer_queue WHERE id = ANY(%s) AND state <> %s "
            "RETURNING id, state, first_index, count, refusal",
            (ids, PENDING),
        ).fetchall()
        for row_id, state, first, count, refusal in rows:
            with self._lock:
                waiting = self._waiting.pop(row_id, None)
            if waiting is None or waiting[0].done():
                continue
            if state == INTEGRATED:
                waiting[0].set_result(range(first, first + count))
            else:
                waiting[0].set_exception(refusal_of(refusal))

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._waiter.join()
        super().close()

"""The one sequencer: integrates queued groups into the log, in queue order, while elected.

Any number of processes may run one; the :class:`~foodtrace.sequencer.election.Election`
lets one act. Each round reads the oldest pending groups, appends them as one transaction
(group commit) whose last statements record every group's outcome on its queue row, wake
the waiting workers (``NOTIFY``) and check the fencing token. Killed at any moment, the
transaction rolls back whole: the groups stay pending and the next elected sequencer
integrates them; nothing acknowledged can be lost because a worker acknowledges only what
such a committed transaction answered.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.record import registry
from foodtrace.sequencer.election import SEQUENCER_LOCK_KEY, SEQUENCER_ROLE, Election, Fenced
from foodtrace.sequencer.models import INTEGRATED, PENDING, REFUSED, is_plain
from foodtrace.sequencer.refusal import EntryRefused, refusal_json
from foodtrace.store import db
from foodtrace.store.leaves import GroupResult, Leaves, Meta, Projector, Record
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

log_ = logging.getLogger(__name__)

CHANNEL = "foodtrace_sequenced"
"""``NOTIFY`` channel: a batch was integrated (workers re-read their rows)."""
QUEUED_CHANNEL = "foodtrace_queued"
"""``NOTIFY`` channel: a worker queued a group (the idle sequencer wakes up)."""
BATCH_MAX_GROUPS = 256
IDLE_POLL_S = 0.1
"""An idle sequencer waits for a worker's ``NOTIFY``, but re-reads the queue at least this
often (a notification lost while its listening connection reconnected)."""
RETRY_WAIT_S = 0.2


def conninfo(url: str) -> str:
    """A libpq URL for psycopg from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def registered_projector() -> Projector:
    """The projector of one group: the registry's, its refusals tagged with the entry's
    position in the group (the worker turns that into the entry's JSON pointer)."""
    position = itertools.count()

    def project(session: Session, index: int, entry: Entry) -> None:
        i = next(position)
        try:
            registry.project(session, index, entry)
        except registry.ProjectionError as exc:
            raise EntryRefused(i, exc.status, exc.problems) from exc

    return project


def group_of(leaves_json: str) -> tuple[list[Record], list[Projector]] | Leaves:
    """What a queued row integrates as: a registered group with its projector, or the
    checked leaves of a bulk ingest (:func:`~foodtrace.sequencer.models.plain_leaves`)."""
    if is_plain(leaves_json):
        data = json.loads(leaves_json)
        metas: list[Meta] = [(m[0], m[1], m[2], m[3]) for m in data["metas"]]
        return Leaves.of([d.encode() for d in data["plain"]], metas)
    return records_of(leaves_json), [registered_projector()]


def records_of(leaves_json: str) -> list[Record]:
    """A queued group's records, from the exact leaf data the worker checked."""
    out = []
    for text in json.loads(leaves_json):
        data = text.encode()
        e = entry_mod.loads(data)
        out.append(Record.from_data(data, e.type, e.author, e.key, e.issued_at))
    return out


class Sequencer:
    """Stands for election on the PostgreSQL database at ``url`` and, once elected,
    integrates the queue. :meth:`step` is one round (tests drive it); :meth:`start` runs
    rounds on a thread until :meth:`close`."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.url = db.normalize_url(url)
        self.log = MerkleLog(self.url, settings=self.settings, migrate=False)
        if self.log.sqlite:
            raise ValueError("the sequencer needs PostgreSQL: SQLite has one writer process")
        self.election = Election(self.url, SEQUENCER_ROLE, SEQUENCER_LOCK_KEY)
        self._conn: Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: psycopg.Connection[Any] | None = None
        registry.load_types()

    # -- one round ---------------------------------------------------------------------------

    def step(self) -> int | None:
        """Integrate one batch if elected: how many groups (None: not elected). Raises
        :class:`Fenced` when the election was lost; nothing of that batch is written."""
        if not self.election.try_acquire():
            return None
        conn = self._connection()
        rows: Sequence[Any] = conn.exec_driver_sql(
            "SELECT id, leaves FROM sequencer_queue WHERE state = %s ORDER BY id LIMIT %s",
            (PENDING, BATCH_MAX_GROUPS),
        ).all()
        conn.commit()
        if not rows:
            return 0
        ids = [int(r[0]) for r in rows]
        groups = [group_of(r[1]) for r in rows]

        def before_commit(c: Connection, results: list[GroupResult]) -> None:
            c.exec_driver_sql(
                "UPDATE sequencer_queue SET state = %s, first_index = %s, refusal = %s "
                "WHERE id = %s AND state = %s",
                [_outcome(i, res) for i, res in zip(ids, results, strict=True)],
            )
            c.exec_driver_sql(f"NOTIFY {CHANNEL}")
            self.election.fence(c)  # last: holds the epoch row until the commit

        try:
            self.log.integrate(conn, groups, before_commit)
        except Fenced:
            self._drop()
            raise
        return len(rows)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.log.engine.connect()
        return self._conn

    def _drop(self) -> None:
        """Lose the role and the connections it used: the next round stands again."""
        self.election.release()
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a broken connection is being discarded
                self._conn.close()
            self._conn = None

    # -- the thread --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sequencer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._listen()
            try:
                n = self.step()
            except Fenced as exc:
                log_.warning("sequencer stopped: %s", exc)
                self._stop.wait(RETRY_WAIT_S)
                continue
            except DBAPIError as exc:  # the database restarted or the connection broke
                log_.warning("sequencer lost the database: %s", exc.__class__.__name__)
                self._drop()
                self._stop.wait(RETRY_WAIT_S)
                continue
            except Exception:  # a bug must not silently end the one writer: log, retry
                log_.exception("sequencer round failed")
                self._drop()
                self._stop.wait(RETRY_WAIT_S)
                continue
            if n is None:
                self._stop.wait(RETRY_WAIT_S)
            elif n == 0:
                self._idle()

    def _listen(self) -> None:
        """Keep a connection listening for queued groups (before reading the queue, so a
        group queued after the read still wakes the next wait)."""
        if self._listener is not None and not self._listener.closed:
            return
        try:
            self._listener = psycopg.connect(conninfo(self.url), autocommit=True)
            self._listener.execute(f"LISTEN {QUEUED_CHANNEL}")
        except psycopg.Error as exc:
            log_.warning("sequencer cannot listen: %s", exc.__class__.__name__)
            self._close_listener()

    def _idle(self) -> None:
        """Wait for a worker's ``NOTIFY`` (at most :data:`IDLE_POLL_S`)."""
        listener = self._listener
        if listener is None:
            self._stop.wait(IDLE_POLL_S)
            return
        try:
            for _ in listener.notifies(timeout=IDLE_POLL_S, stop_after=1):
                pass
        except psycopg.Error as exc:
            log_.warning("sequencer stopped listening: %s", exc.__class__.__name__)
            self._close_listener()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):  # a broken connection is being discarded
                listener.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close_listener()
        self._drop()
        self.log.close()


def _outcome(row_id: int, result: GroupResult) -> tuple[int, int | None, str | None, int, int]:
    if isinstance(result, range):
        return (INTEGRATED, result.start, None, row_id, PENDING)
    return (REFUSED, None, refusal_json(result), row_id, PENDING)

"""Electing the one holder of a role (the sequencer, the anchorer) on PostgreSQL, with fencing.

The holder keeps a session-level ``pg_try_advisory_lock`` on a connection of its own, and on
winning bumps the role's epoch row. Every commit it makes afterwards calls :meth:`Election.
fence` inside its transaction: the epoch row must still hold its epoch *and* its lock
connection's backend must still hold the advisory lock. So a holder whose lock connection
died (``pg_terminate_backend``, a network cut) fails its very next commit, and a holder that
was replaced fails it too: the successor's epoch bump waits on the row lock of any commit in
flight, so the two never interleave.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import NullPool

from foodtrace.store import db

SEQUENCER_LOCK_KEY = 0x46545F534551  # "FT_SEQ"
SEQUENCER_ROLE = "sequencer"


class Fenced(RuntimeError):
    """This process no longer holds the role: its commit must not happen."""


def holder_name() -> str:
    """Who holds a role, as shown in ``election_epochs.holder``: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Election:
    """Stand for ``role`` under advisory lock ``key`` on the PostgreSQL database at ``url``."""

    def __init__(self, url: str, role: str, key: int) -> None:
        self.url = db.normalize_url(url)
        self.role = role
        self.key = key
        self.epoch: int | None = None
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._pid: int | None = None

    @property
    def held(self) -> bool:
        return self.epoch is not None

    def try_acquire(self) -> bool:
        """Take the lock if free and start a new epoch; True if this process now holds it."""
        if self.held:
            return True
        if self._engine is None:
            self._engine = db.make_engine(self.url, poolclass=NullPool)
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (self.key,)).scalar()
            if not got:
                conn.close()
                return False
            self._pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
            self.epoch = int(
                conn.exec_driver_sql(
                    "INSERT INTO election_epochs (role, epoch, holder) VALUES (%s, 1, %s) "
                    "ON CONFLICT (role) DO UPDATE SET epoch = election_epochs.epoch + 1, "
                    "holder = excluded.holder RETURNING epoch",
                    (self.role, holder_name()),
                ).scalar_one()
            )
        except BaseException:
            conn.close()
            self.epoch = None
            raise
        self._conn = conn
        return True

    def fence(self, conn: Connection) -> None:
        """Inside the caller's transaction on ``conn``: raise :class:`Fenced` unless this
        process still holds the role. Locks the epoch row until that transaction ends."""
        if self.epoch is None:
            raise Fenced(f"not elected {self.role}")
        got = conn.exec_driver_sql(
            "UPDATE election_epochs SET epoch = epoch WHERE role = %s AND epoch = %s "
            "AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = %s AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
            (self.role, self.epoch, self._pid, self.key >> 32, self.key & 0xFFFFFFFF),
        )
        if got.rowcount != 1:
            epoch, self.epoch = self.epoch, None
            raise Fenced(
                f"{self.role} epoch {epoch} is over: its lock connection is gone or another "
                "process was elected"
            )

    def release(self) -> None:
        """Give the role up (closing the lock connection releases the lock)."""
        self.epoch = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection is being discarded
                conn.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def lock_backend_pid(self) -> int | None:
        """The PostgreSQL backend holding the lock for this process (tests kill it)."""
        return self._pid if self.held else None


def current_holder(conn: Connection, role: str) -> tuple[int, str] | None:
    """``(epoch, holder)`` of ``role`` as last elected, or None if never elected."""
    row: Any = conn.exec_driver_sql(
        "SELECT epoch, holder FROM election_epochs WHERE role = %s", (role,)
    ).first()
    return (int(row[0]), str(row[1])) if row else None

"""Disk full: a write the database has no room for is refused with a clear 507 problem,
nothing of it is stored, and writes succeed again once there is room.

Simulated on SQLite with ``PRAGMA max_page_count`` set on every transaction of the app's
engine (the log writer's long-lived connection included): SQLite then answers SQLITE_FULL,
the very error it returns when the file system has no space left (``database or disk is
full``). No root tricks, no filled partition that would starve the other tests on this
machine. PostgreSQL's own ``disk_full`` (SQLSTATE 53100) maps to the same problem
(``foodtrace.api.problems.storage_problem``), checked below without filling a disk.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from seqharness import bootstrap, settings_for
from sqlalchemy import event, text
from sqlalchemy.exc import PendingRollbackError

from foodtrace.api.app import create_app
from foodtrace.api.problems import storage_problem
from foodtrace.store.log import MerkleLog

SQLITE_MAX_PAGES = 4294967294  # SQLite's default max_page_count
CONCURRENT = 6


def test_full_database_refuses_writes_cleanly_then_recovers(
    sqlite_url: str, tmp_path: Path
) -> None:
    reg = bootstrap(sqlite_url, tmp_path)
    app = create_app(settings_for(sqlite_url, tmp_path))
    engine = app.state.log.engine
    cap: dict[str, int | None] = {"pages": None}

    def _cap(conn: Any) -> None:
        if cap["pages"] is not None:  # before the store's own BEGIN: outside any transaction
            conn.exec_driver_sql(f"PRAGMA max_page_count = {cap['pages']}").close()

    event.listen(engine, "begin", _cap, insert=True)

    headers = {"Authorization": f"Bearer {reg.token}"}
    with TestClient(app, raise_server_exceptions=False) as http:

        def register(n: int) -> Any:
            e = reg.party(n)
            payload = {"entry": e.unsigned() | {"sig": e.sig}}
            return http.post("/api/v1/parties", json=payload, headers=headers)

        size0 = app.state.log.size()
        assert register(1).status_code == 201
        per_write = app.state.log.size() - size0  # the entry and its enrolment code's event
        with engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        cap["pages"] = int(pages) + 2  # room for a write or two, then full
        size_before = app.state.log.size()
        statuses, n = [], 2
        while 507 not in statuses:
            assert n < 200, f"the capped database never filled: {statuses}"
            statuses.append(register(n).status_code)
            n += 1
        refused = n - 1
        assert set(statuses) == {201, 507}, statuses  # never a 500
        full = register(refused)  # still full: the same clear answer, again
        assert full.status_code == 507
        assert full.headers["content-type"] == "application/problem+json"
        assert full.json()["title"] == "Insufficient Storage"
        assert "nothing of the request was stored" in full.json()["detail"]
        stored = app.state.log.size()
        assert stored == size_before + per_write * statuses.count(201)  # refused: no index
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT count(*) FROM parties WHERE party_id = :p"),
                {"p": f"pro-{refused:06d}"},
            ).scalar_one()
        assert rows == 0  # nor a projected row
        with ThreadPoolExecutor(CONCURRENT) as pool:  # several at once, as the writer batches them
            burst = list(pool.map(register, range(1000, 1000 + CONCURRENT)))
        assert {r.status_code for r in burst} == {507}, [r.text for r in burst]
        assert app.state.log.size() == stored  # not a row of the batch was kept

        cap["pages"] = SQLITE_MAX_PAGES  # room again, on every connection's next transaction
        again = register(refused)
        assert again.status_code == 201, again.text  # the refused entry, sent again
        assert again.json()["entry_index"] == stored
        assert register(refused + 1).status_code == 201
    with MerkleLog(sqlite_url, settings=settings_for(sqlite_url, tmp_path), migrate=False) as log:
        assert log.size() == stored + 2 * per_write
        report = log.audit()
        assert report.ok, report.problems[:3]


def test_postgresql_disk_full_and_lost_connections_are_problems_not_500() -> None:
    full = storage_problem(psycopg.errors.DiskFull("could not extend file"))
    assert full is not None and full.status == 507
    gone = storage_problem(psycopg.OperationalError("server closed the connection"))
    assert gone is not None and gone.status == 503 and gone.headers["Retry-After"]
    # the log writer's batch on a connection that dropped mid-transaction (never committed)
    dropped = PendingRollbackError("Can't reconnect until invalid transaction is rolled back.")
    after_drop = storage_problem(dropped)
    assert after_drop is not None and after_drop.status == 503
    session_bug = PendingRollbackError("This Session's transaction has been rolled back")
    assert storage_problem(session_bug) is None  # a session misused after an error: a bug
    assert storage_problem(psycopg.errors.UniqueViolation("dup")) is None  # a bug stays a 500
    assert storage_problem(ValueError("x")) is None

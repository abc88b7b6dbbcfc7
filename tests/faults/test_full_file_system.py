"""A real full file system: the SQLite data dir (database, WAL, keys, embedded chain) lives on
a private 8 MiB tmpfs (``smalldisk``), a ballast file fills it but for a little room, and the
service takes writes (``prefix.assign``: one entry, one append) until the kernel answers
ENOSPC. (``POST /api/v1/parties`` is two appends, the party's entry and then its enrolment
code's ``token.event``: a disk that fills between them leaves the party registered under a
507; see the README, "Faults survived".)

Asserted: the refused write gets 507 problem+json naming the cause (never a 500), takes no
index and leaves no projected row; while the disk stays full every write gets the same
answer; the database file passes ``PRAGMA integrity_check``; once the ballast is deleted the
same refused entry is accepted at the next index without restarting anything, and the log
audits clean."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from seqharness import bootstrap, settings_for
from smalldisk import fill, free_bytes, small_filesystem
from sqlalchemy import text

from foodtrace.api.app import create_app
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod

ROOM = 96 * 1024  # left free after the ballast: a few writes, then ENOSPC
MAX_WRITES = 3000
CONCURRENT = 6


def _integrity(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def test_full_file_system_refuses_writes_cleanly_then_recovers(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "disk") as disk:
        db = disk / "foodtrace.db"
        url = f"sqlite:///{db}"
        reg = bootstrap(url, disk)
        app = create_app(settings_for(url, disk))
        headers = {"Authorization": f"Bearer {reg.token}"}
        with TestClient(app, raise_server_exceptions=False) as http:

            def register(n: int) -> Any:
                """One ``prefix.assign`` entry: one append, so one all-or-nothing group."""
                body = {"party_id": reg.party_id, "prefix": f"69{n:07d}"}
                e = entry_mod.sign(reg.key, type="prefix.assign", author=reg.party_id, body=body)
                payload = {"entry": e.unsigned() | {"sig": e.sig}}
                return http.post("/api/v1/prefixes", json=payload, headers=headers)

            log = app.state.log
            size0 = log.size()
            assert register(1).status_code == 201
            per_write = log.size() - size0
            ballast = fill(disk / "ballast", ROOM)
            size_before, statuses, n = log.size(), [], 2
            while 507 not in statuses:
                assert n < MAX_WRITES, f"the file system never filled: {free_bytes(disk)} free"
                statuses.append(register(n).status_code)
                n += 1
            refused = n - 1
            print(f"{statuses.count(201)} writes fitted, {free_bytes(disk)} bytes free at 507")
            assert set(statuses) <= {201, 507}, statuses  # never a 500
            full = register(refused)  # still full: the same clear answer, again
            assert full.status_code == 507, full.text
            assert full.headers["content-type"] == "application/problem+json"
            problem = full.json()
            assert problem["title"] == "Insufficient Storage"
            assert "no room left" in problem["detail"]
            assert "nothing of the request was stored" in problem["detail"]
            assert full.headers["Retry-After"]
            stored = log.size()
            assert stored == size_before + per_write * statuses.count(201)  # refused: no index
            with log.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT count(*) FROM company_prefixes WHERE prefix = :p"),
                    {"p": f"69{refused:07d}"},
                ).scalar_one()
            assert rows == 0  # nor a projected row
            with ThreadPoolExecutor(CONCURRENT) as pool:  # a batch of them at once
                burst = list(pool.map(register, range(100_000, 100_000 + CONCURRENT)))
            assert {r.status_code for r in burst} == {507}, [r.text for r in burst]
            assert log.size() == stored  # not a row of the batch was kept
            assert _integrity(db) == "ok"

            ballast.unlink()  # room again
            again = register(refused)
            assert again.status_code == 201, again.text  # the refused entry, sent again
            assert again.json()["entry_index"] == stored
            assert register(refused + 1).status_code == 201
        with MerkleLog(url, settings=settings_for(url, disk), migrate=False) as log:
            assert log.size() == stored + 2 * per_write
            report = log.audit()
            assert report.ok, report.problems[:3]
        assert _integrity(db) == "ok"

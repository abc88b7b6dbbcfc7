"""A real full file system: the SQLite data dir (database, WAL, keys, embedded chain) lives on
a private 8 MiB tmpfs (``smalldisk``), a ballast file fills it but for a little room, and the
service takes writes until the kernel answers ENOSPC. Twice: ``prefix.assign`` (one entry),
and ``POST /api/v1/parties``, whose ``party.register`` and enrolment code ``token.event`` are
one group (they were two appends, and a disk that filled between them left the party
registered under a 507 and its retry refused 409: README, "Faults survived").

Asserted: the refused write gets 507 problem+json naming the cause (never a 500), takes no
index and leaves no projected row; while the disk stays full a batch of writes is refused
with each answer whole (some may fit where SQLite reuses room in its own files); the
database file passes ``PRAGMA integrity_check``; once the ballast is deleted the
same refused entry is accepted at the next index without restarting anything, and the log
audits clean."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from recordharness import credit_code
from seqharness import bootstrap, settings_for
from smalldisk import fill, free_bytes, small_filesystem
from sqlalchemy import text

from foodtrace.api.app import create_app
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

ROOM = 96 * 1024  # left free after the ballast: a few writes, then ENOSPC
MAX_WRITES = 3000
CONCURRENT = 6


def _integrity(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


class Writes:
    """One kind of write, numbered: what it posts and the projected row it leaves."""

    def __init__(self, kind: str, reg: Any) -> None:
        self.kind, self.reg = kind, reg
        self.codes: dict[int, str] = {}

    def request(self, n: int) -> tuple[str, dict[str, Any]]:
        if self.kind == "prefix":
            path, type_ = "/api/v1/prefixes", "prefix.assign"
            body: dict[str, Any] = {"party_id": self.reg.party_id, "prefix": f"69{n:07d}"}
        else:
            code = self.codes.setdefault(n, credit_code())
            path, type_ = "/api/v1/parties", "party.register"
            body = {
                "party_id": f"pro-{n}",
                "name": f"农场{n}",
                "kind": "producer",
                "credit_code": code,
                "public_keys": [keys.public_to_b64(keys.generate())],
            }
        e = entry_mod.sign(self.reg.key, type=type_, author=self.reg.party_id, body=body)
        return path, {"entry": e.unsigned() | {"sig": e.sig}}

    def row_query(self, n: int) -> tuple[str, dict[str, str]]:
        if self.kind == "prefix":
            return "SELECT count(*) FROM company_prefixes WHERE prefix = :p", {"p": f"69{n:07d}"}
        # the party or its key (its code's row, made just before the group, may stay when
        # the disk is too full even to delete it: see ``inert_codes``)
        return (
            "SELECT (SELECT count(*) FROM parties WHERE party_id = :p)"
            " + (SELECT count(*) FROM author_keys WHERE author = :p)",
            {"p": f"pro-{n}"},
        )


def inert_codes(http: TestClient, conn: Any, party_id: str) -> int:
    """How many code rows a refused registration left for ``party_id`` (its secret was never
    answered), after checking that enrolment is refused: no code of an unregistered party
    is usable."""
    r = http.post("/api/v1/enrolments", json={"party_id": party_id, "code": "fte_" + "A" * 43})
    assert r.status_code == 401, r.text
    sql = "SELECT count(*) FROM enrolment_codes WHERE party_id = :p"
    return int(conn.execute(text(sql), {"p": party_id}).scalar_one())


@pytest.mark.parametrize("kind", ["prefix", "party"])
def test_full_file_system_refuses_writes_cleanly_then_recovers(tmp_path: Path, kind: str) -> None:
    with small_filesystem(tmp_path / "disk") as disk:
        db = disk / "foodtrace.db"
        url = f"sqlite:///{db}"
        reg = bootstrap(url, disk)
        app = create_app(settings_for(url, disk))
        headers = {"Authorization": f"Bearer {reg.token}"}
        with TestClient(app, raise_server_exceptions=False) as http:
            writes = Writes(kind, reg)
            sent: dict[int, tuple[str, dict[str, Any]]] = {}

            def register(n: int) -> Any:
                """One all-or-nothing group; write ``n`` sent again is the same request."""
                path, payload = sent.setdefault(n, writes.request(n))
                return http.post(path, json=payload, headers=headers)

            log = app.state.log
            size0 = log.size()
            assert register(1).status_code == 201
            per_write = log.size() - size0
            ballast = fill(disk / "ballast", ROOM)
            size_before, statuses, n = log.size(), [], 2
            full: Any = None
            while full is None:
                assert n < MAX_WRITES, f"the file system never filled: {free_bytes(disk)} free"
                answer = register(n)
                statuses.append(answer.status_code)
                if answer.status_code == 507:
                    full = answer
                n += 1
            refused = n - 1
            print(f"{statuses.count(201)} writes fitted, {free_bytes(disk)} bytes free at 507")
            assert set(statuses) <= {201, 507}, statuses  # never a 500
            assert full.headers["content-type"] == "application/problem+json"
            problem = full.json()
            assert problem["title"] == "Insufficient Storage"
            assert "no room left" in problem["detail"]
            assert "nothing of the request was stored" in problem["detail"]
            assert full.headers["Retry-After"]
            stored = log.size()
            assert stored == size_before + per_write * statuses.count(201)  # refused: no index
            sql, params = writes.row_query(refused)
            with log.engine.connect() as conn:
                rows = conn.execute(text(sql), params).scalar_one()
                if kind == "party":
                    left = inert_codes(http, conn, f"pro-{refused}")
                    print(f"{left} unanswered code rows left by the refused registration")
            assert rows == 0  # nor a projected row
            # A batch at once while the disk stays full. Some or all may fit where SQLite
            # reuses room inside its own files (a WAL restarted after a checkpoint needs no
            # new blocks: seen in about one run in three), so each answer is judged on its
            # own: a 201 is stored whole, a 507 is the same clear problem and leaves nothing.
            with ThreadPoolExecutor(CONCURRENT) as pool:
                burst = list(pool.map(register, range(100_000, 100_000 + CONCURRENT)))
            codes = [r.status_code for r in burst]
            assert set(codes) <= {201, 507}, [r.text for r in burst]
            for r in burst:
                if r.status_code == 507:
                    assert r.json()["title"] == "Insufficient Storage", r.text
            accepted = codes.count(201)
            assert log.size() == stored + per_write * accepted  # no half-kept batch
            stored = log.size()
            assert _integrity(db) == "ok"

            ballast.unlink()  # room again
            again = register(refused)
            assert again.status_code == 201, again.text  # the refused entry, sent again
            assert again.json()["entry_index"] == stored
            if kind == "party":  # and its code, made with it, enrols it
                enrol = {"party_id": f"pro-{refused}", "code": again.json()["enrolment_code"]}
                assert http.post("/api/v1/enrolments", json=enrol).status_code == 201
            assert register(refused + 1).status_code == 201
        with MerkleLog(url, settings=settings_for(url, disk), migrate=False) as log:
            enrolled = 1 if kind == "party" else 0  # the enrolment's own token.event
            assert log.size() == stored + 2 * per_write + enrolled
            report = log.audit()
            assert report.ok, report.problems[:3]
        assert _integrity(db) == "ok"

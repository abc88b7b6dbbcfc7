"""What the fault tests share: clients that retry a write they got no answer for, the pids
of uvicorn's workers and of an elected role's holder, and the check of the log afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from seqharness import Regulator, settings_for, sql

from foodtrace.store.log import MerkleLog

RETRYABLE = (0, 503)  # no answer (the worker died under the request), or "try again"
RETRIES = 20


def wait(done: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def worker_pids(master: int) -> list[int]:
    """uvicorn's worker processes (spawned children of its master), not multiprocessing's
    resource tracker."""
    pids = []
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline:
            pids.append(int(child))
    return pids


def holder_pid(url: str, role: str) -> int | None:
    rows = sql(url, "SELECT holder FROM election_epochs WHERE role = :r", r=role)
    return int(rows[0][0].rsplit(":", 1)[1]) if rows else None


@dataclass
class RetryingClients:
    """Threads registering distinct parties until stopped. A write that got no answer or a
    503 is sent again, the same signed entry, until it is answered: ``acked`` maps each
    acknowledged index to its party; ``landed_earlier`` holds parties whose retry was refused
    as a duplicate (409), so an earlier attempt was integrated; ``statuses`` counts every
    answer (0: the connection failed)."""

    base: str
    regulator: Regulator
    threads: int
    acked: dict[int, str] = field(default_factory=dict)
    landed_earlier: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    first_statuses: dict[int, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _post(self, http: httpx.Client, payload: dict[str, object]) -> httpx.Response | None:
        try:
            return http.post("/api/v1/parties", json=payload)
        except httpx.HTTPError:
            return None

    def _run(self, t: int) -> None:
        headers = {"Authorization": f"Bearer {self.regulator.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=40) as http:
            n = t * 100_000
            while not self.stop.is_set():
                n += 1
                e = self.regulator.party(n)
                payload = {"entry": e.unsigned() | {"sig": e.sig}}
                for attempt in range(RETRIES):
                    r = self._post(http, payload)
                    status = 0 if r is None else r.status_code
                    with self._lock:
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                        if attempt == 0:
                            self.first_statuses[status] = self.first_statuses.get(status, 0) + 1
                    if status not in RETRYABLE:
                        break
                    time.sleep(0.2)
                with self._lock:
                    if status == 201:
                        assert r is not None
                        index = r.json()["entry_index"]
                        assert index not in self.acked, f"index {index} acknowledged twice"
                        self.acked[index] = e.body["party_id"]
                    elif status == 409 and attempt > 0:
                        self.landed_earlier.add(e.body["party_id"])

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._run, args=(t,)) for t in range(self.threads)]
        for th in self._threads:
            th.start()

    def join(self) -> None:
        self.stop.set()
        for th in self._threads:
            th.join()


def check_log(url: str, tmp_path: Path, acked: dict[int, str], landed: set[str]) -> None:
    """Every acknowledged entry is in the log exactly once at its index, every write refused
    on retry as a duplicate is in it exactly once, each projected party row has its entry
    and back (nothing half-written), and the log audits clean."""
    with MerkleLog(url, settings=settings_for(url, tmp_path), migrate=False) as log:
        registered: dict[str, int] = {}
        for i in range(log.size()):
            e = log.entry(i)
            if e.type == "party.register" and e.body["party_id"].startswith("pro-"):
                assert e.body["party_id"] not in registered, f"{e.body['party_id']} twice"
                registered[e.body["party_id"]] = i
        for index, party in acked.items():
            assert registered.get(party) == index, f"acknowledged {party} at {index} lost"
        assert landed <= registered.keys(), "a write refused as a duplicate is not in the log"
        rows = sql(url, "SELECT party_id, entry_index FROM parties WHERE party_id LIKE 'pro-%'")
        assert dict(rows) == registered
        report = log.audit()
        assert report.ok, report.problems[:3]

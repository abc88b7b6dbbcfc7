"""Several API worker processes on PostgreSQL, one elected sequencer, faults.

What must hold after concurrent writes through ``uvicorn --workers``, and after SIGKILLs
of the sequencer process mid-ingest: every acknowledged entry is in the log exactly once
at its acknowledged index, every projected party row has its entry (nothing half-written),
nothing stays queued once a sequencer runs again, and the log audits clean.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import httpx
import pytest
from processes import Clients, start_sequencer, start_workers, stop_group
from seqharness import bootstrap, settings_for, sql

from foodtrace.store.log import MerkleLog

KILLS = 3
KILLS_SLOW = 12


def check_log(url: str, tmp_path: Path, acked: dict[int, str]) -> None:
    with MerkleLog(url, settings=settings_for(url, tmp_path), migrate=False) as log:
        registered: dict[str, int] = {}
        for i in range(log.size()):
            e = log.entry(i)
            if e.type == "party.register" and e.body["party_id"].startswith("pro-"):
                assert e.body["party_id"] not in registered, f"{e.body['party_id']} twice"
                registered[e.body["party_id"]] = i
        for index, party in acked.items():
            assert registered.get(party) == index, f"acknowledged {party} at {index} lost"
        rows = sql(url, "SELECT party_id, entry_index FROM parties WHERE party_id LIKE 'pro-%'")
        assert dict(rows) == registered  # each projected row has its entry, and back
        report = log.audit()
        assert report.ok, report.problems[:3]


def test_several_workers_acknowledge_each_entry_once(pg_url: str, tmp_path: Path) -> None:
    reg = bootstrap(pg_url, tmp_path)
    workers, base = start_workers(pg_url, tmp_path, "candidate", workers=2)
    try:
        clients = Clients(base, reg, threads=6, per_thread=8)
        started = time.monotonic()
        for th in clients.run():
            th.join()
        print(f"48 writes through 2 workers in {time.monotonic() - started:.2f} s")
        assert clients.statuses == {201: 48}
        e = reg.party(99_999)  # no client thread registers this one
        headers = {"Authorization": f"Bearer {reg.token}"}
        payload = {"entry": e.unsigned() | {"sig": e.sig}}
        assert (
            httpx.post(base + "/api/v1/parties", json=payload, headers=headers).status_code == 201
        )
        again = httpx.post(base + "/api/v1/parties", json=payload, headers=headers)
        assert again.status_code == 409, again.text  # refused by the sequencer's projection
        assert again.headers["content-type"] == "application/problem+json"
        # the same problem as the single-process path (tests/party/test_party_keys.py)
        assert {p["pointer"] for p in again.json()["errors"]} == {
            "/body/entry/body/party_id",
            "/body/entry/body/credit_code",
        }
        holders = sql(pg_url, "SELECT epoch FROM election_epochs WHERE role = 'sequencer'")
        assert holders == [(1,)]  # one of the two workers was elected, once
    finally:
        stop_group(workers)
    check_log(pg_url, tmp_path, clients.acked)


def _kill_sequencers(pg_url: str, tmp_path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    reg = bootstrap(pg_url, tmp_path)
    workers, base = start_workers(pg_url, tmp_path, "worker", workers=2)
    sequencers = [start_sequencer(pg_url, tmp_path, n) for n in range(2)]
    _leader(pg_url, sequencers)  # elected before the load starts
    clients = Clients(base, reg, threads=4)
    threads = clients.run()
    try:
        for k in range(kills):
            time.sleep(rng.uniform(0.3, 1.2))
            leader = _leader(pg_url, sequencers)
            before = len(clients.acked)
            leader.send_signal(signal.SIGKILL)
            leader.wait()
            sequencers.remove(leader)
            sequencers.append(start_sequencer(pg_url, tmp_path, 2 + k))
            _wait(lambda b=before: len(clients.acked) > b + 5, "ingest to resume after a kill")
        clients.stop.set()
        for th in threads:
            th.join()
        _wait(
            lambda: sql(pg_url, "SELECT count(*) FROM sequencer_queue WHERE state = 0") == [(0,)],
            "the queue to drain",
        )
    finally:
        clients.stop.set()
        stop_group(workers)
        for s in sequencers:
            s.terminate()
            s.wait()
    assert len(clients.acked) > 5 * kills, clients.statuses  # kills landed in real work
    epochs = sql(pg_url, "SELECT epoch FROM election_epochs WHERE role = 'sequencer'")
    assert epochs[0][0] >= kills + 1  # every kill was followed by a new election
    check_log(pg_url, tmp_path, clients.acked)


def _leader(url: str, sequencers: list) -> object:  # type: ignore[type-arg]
    deadline = time.monotonic() + 90  # a loaded 2-core machine starts Python slowly
    while time.monotonic() < deadline:
        rows = sql(url, "SELECT holder FROM election_epochs WHERE role = 'sequencer'")
        if rows:
            pid = int(rows[0][0].rsplit(":", 1)[1])
            for s in sequencers:
                if s.pid == pid and s.poll() is None:
                    return s
        time.sleep(0.05)
    raise AssertionError("no running sequencer was elected")


def _wait(done: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_of_the_sequencer_loses_no_acknowledged_entry(pg_url: str, tmp_path: Path) -> None:
    _kill_sequencers(pg_url, tmp_path, KILLS, seed=11)


@pytest.mark.long
def test_sigkill_of_the_sequencer_many_times(pg_url: str, tmp_path: Path) -> None:
    _kill_sequencers(pg_url, tmp_path, KILLS_SLOW, seed=12)

"""PostgreSQL restarted for real: a private server (``pgcluster``) is stopped (``-m fast``, a
clean shutdown that disconnects every client, and ``-m immediate``, every server process
killed and crash recovery at the next start) and started again, and once restarted in one
``pg_ctl restart``, while the service takes writes from retrying clients.

Two shapes of the service: two uvicorn workers with the elected sequencer, and one process
with the sequencer off, whose log writer keeps one long-lived connection for its whole life.

Asserted: while the server is down a write gets 503 problem+json with ``Retry-After`` (never
a 500); once it is back writes are acknowledged again without restarting the service;
``/healthz`` answers 200; every acknowledged write is in the log exactly once, every
projected row has its entry, and the log audits clean."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from faultharness import RetryingClients, check_log, wait
from pgcluster import Cluster, private_cluster
from processes import start_workers, stop_group
from seqharness import Regulator, bootstrap, sql

STOPS = ("fast", "immediate")
STOPS_LONG = ("fast", "immediate") * 4
PROBE = 9_000_000  # party numbers of the probes sent while the server is down


def _probe(base: str, reg: Regulator, n: int) -> httpx.Response:
    """One write while the server is down: answered at once, not after a timeout."""
    e = reg.party(n)
    headers = {"Authorization": f"Bearer {reg.token}"}
    payload = {"entry": e.unsigned() | {"sig": e.sig}}
    return httpx.post(base + "/api/v1/parties", json=payload, headers=headers, timeout=30)


def _restarts(tmp_path: Path, mode: str, workers: int, stops: tuple[str, ...]) -> None:
    with private_cluster() as pg:
        reg = bootstrap(pg.url, tmp_path)
        master, base = start_workers(pg.url, tmp_path, mode, workers=workers)
        clients = RetryingClients(base, reg, threads=4)
        probes: list[httpx.Response] = []
        try:
            clients.start()
            wait(lambda: len(clients.acked) > 3, "the first writes", 90)
            for n, stop in enumerate(stops):
                before = len(clients.acked)
                pg.stop(stop)
                probes.append(_probe(base, reg, PROBE + n))
                time.sleep(1)  # the clients' writes meet the outage too
                pg.start()
                wait(lambda b=before: len(clients.acked) > b + 5, f"writes after {stop}", 90)
            before = len(clients.acked)
            pg.restart("fast")
            wait(lambda: len(clients.acked) > before + 5, "writes after pg_ctl restart", 90)
            clients.join()
            _drained(pg, mode)
            health = httpx.get(base + "/healthz", timeout=10)
            assert health.status_code == 200 and health.json()["database"]["reachable"], health.text
        finally:
            clients.join()
            stop_group(master)
        print(f"statuses {clients.statuses}; probes {[p.status_code for p in probes]}")
        for p in probes:
            assert p.status_code == 503, p.text
            assert p.headers["content-type"] == "application/problem+json"
            assert p.headers["Retry-After"] == "1"
        assert 500 not in clients.statuses, clients.statuses
        assert set(clients.statuses) <= {0, 201, 409, 503}, clients.statuses
        check_log(pg.url, tmp_path, clients.acked, clients.landed_earlier)


def _drained(pg: Cluster, mode: str) -> None:
    if mode != "off":
        wait(
            lambda: sql(pg.url, "SELECT count(*) FROM sequencer_queue WHERE state = 0") == [(0,)],
            "the queue to drain",
        )


def test_postgresql_restarted_under_sequencer_workers(tmp_path: Path) -> None:
    _restarts(tmp_path, "candidate", 2, STOPS)


def test_postgresql_restarted_under_one_process_without_sequencer(tmp_path: Path) -> None:
    """The log writer's one long-lived connection must come back by itself."""
    _restarts(tmp_path, "off", 1, STOPS)


@pytest.mark.long
def test_postgresql_restarted_many_times(tmp_path: Path) -> None:
    _restarts(tmp_path / "workers", "candidate", 2, STOPS_LONG)
    _restarts(tmp_path / "single", "off", 1, STOPS_LONG)

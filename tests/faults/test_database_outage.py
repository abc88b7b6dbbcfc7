"""PostgreSQL outage: restarting the server would disturb everyone else's tests on this
machine, so every backend of the test's own database is terminated instead
(``pg_terminate_backend``: what the service sees of a restart, its connections dropped),
several times in a row, while two uvicorn workers (one the elected sequencer) take writes.

Asserted: no answer is a 500 (a write caught by the outage gets 503 + Retry-After, or its
connection drops, and the client sends the same entry again); the workers recover without
a restart (writes are acknowledged again, ``/healthz`` answers 200); every acknowledged
write is in the log exactly once and the log audits clean."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from faultharness import RetryingClients, check_log, wait
from processes import start_workers, stop_group
from seqharness import bootstrap, sql

OUTAGES = 2
OUTAGES_SLOW = 4
SWEEPS = 4  # terminations per outage, 0.2 s apart: the pools reconnect in between

TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _outages(pg_url: str, tmp_path: Path, outages: int) -> None:
    reg = bootstrap(pg_url, tmp_path)
    master, base = start_workers(pg_url, tmp_path, "candidate", workers=2)
    clients = RetryingClients(base, reg, threads=4)
    terminated = 0
    try:
        clients.start()
        wait(lambda: len(clients.acked) > 3, "the first writes", 90)
        for _ in range(outages):
            before = len(clients.acked)
            for _ in range(SWEEPS):
                terminated += sql(pg_url, TERMINATE)[0][0]
                time.sleep(0.2)
            wait(lambda b=before: len(clients.acked) > b + 5, "writes after the outage", 90)
        clients.join()
        wait(
            lambda: sql(pg_url, "SELECT count(*) FROM sequencer_queue WHERE state = 0") == [(0,)],
            "the queue to drain",
        )
        health = httpx.get(base + "/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["database"]["reachable"], health.text
    finally:
        clients.join()
        stop_group(master)
    print(f"terminated {terminated} backends; statuses {clients.statuses}")
    assert terminated >= outages * 2  # the outages hit the workers' connections
    assert 500 not in clients.statuses, clients.statuses
    assert set(clients.statuses) <= {0, 201, 409, 503}, clients.statuses
    check_log(pg_url, tmp_path, clients.acked, clients.landed_earlier)


def test_terminated_backends_give_503_not_500_and_the_service_recovers(
    pg_url: str, tmp_path: Path
) -> None:
    _outages(pg_url, tmp_path, OUTAGES)


@pytest.mark.long
def test_many_database_outages(pg_url: str, tmp_path: Path) -> None:
    _outages(pg_url, tmp_path, OUTAGES_SLOW)

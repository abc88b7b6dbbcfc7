"""Worker kill: two uvicorn workers on PostgreSQL (``FOODTRACE_SEQUENCER=candidate``, so one
of them is also the elected sequencer), clients writing all along, and SIGKILL of one worker
process at a time mid-stream: in the default run one that is not the sequencer; in the slow
run alternately that and the one that is (worker and sequencer die together).
uvicorn's master starts a new worker in its place.

Asserted afterwards: every acknowledged (201) write is in the log exactly once at its index;
a write whose connection broke is sent again, the same signed entry, and is then either
acknowledged or refused as a duplicate (409: an earlier attempt was integrated), never
stored twice; no answer is a 500; the projection matches the log and the log audits clean.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from faultharness import RetryingClients, check_log, holder_pid, wait, worker_pids
from processes import start_workers, stop_group
from seqharness import bootstrap, sql

from foodtrace.sequencer.election import SEQUENCER_ROLE

KILLS = 1  # a worker that is not the sequencer (tests/sequencer kills sequencers)
KILLS_SLOW = 4  # alternately one that is not and the one that is


def _kill_workers(pg_url: str, tmp_path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    reg = bootstrap(pg_url, tmp_path)
    master, base = start_workers(pg_url, tmp_path, "candidate", workers=2)
    clients = RetryingClients(base, reg, threads=4)
    try:
        wait(lambda: holder_pid(pg_url, SEQUENCER_ROLE) is not None, "a sequencer", 90)
        clients.start()
        for k in range(kills):
            time.sleep(rng.uniform(0.3, 1.0))
            workers = worker_pids(master.pid)
            assert len(workers) == 2, workers
            leader = holder_pid(pg_url, SEQUENCER_ROLE)
            others = [p for p in workers if p != leader]
            victim = leader if k % 2 and leader in workers else others[0]
            before = len(clients.acked)
            os.kill(victim, signal.SIGKILL)
            wait(lambda v=victim: v not in worker_pids(master.pid), "the worker to die")
            wait(lambda: len(worker_pids(master.pid)) == 2, "uvicorn to replace the worker", 90)
            wait(lambda b=before: len(clients.acked) > b + 5, "ingest to resume after a kill")
        clients.join()
        wait(
            lambda: sql(pg_url, "SELECT count(*) FROM sequencer_queue WHERE state = 0") == [(0,)],
            "the queue to drain",
        )
    finally:
        clients.join()
        stop_group(master)
    print(f"statuses {clients.statuses}, first attempts {clients.first_statuses}")
    assert 500 not in clients.statuses, clients.statuses
    assert set(clients.statuses) <= {0, 201, 409, 503}, clients.statuses
    cut = clients.first_statuses.get(0, 0) + clients.first_statuses.get(503, 0)
    # One kill may land between writes on an idle machine; the long loop (several kills)
    # must cut at least one write in flight, or it did not test retries.
    assert cut > 0 or kills == 1, "no write was cut by a kill: the test did not test retries"
    assert len(clients.acked) > 5 * kills
    check_log(pg_url, tmp_path, clients.acked, clients.landed_earlier)


def test_sigkill_of_a_worker_loses_and_duplicates_nothing(pg_url: str, tmp_path: Path) -> None:
    _kill_workers(pg_url, tmp_path, KILLS, seed=21)


@pytest.mark.long
def test_sigkill_of_workers_many_times(pg_url: str, tmp_path: Path) -> None:
    _kill_workers(pg_url, tmp_path, KILLS_SLOW, seed=22)

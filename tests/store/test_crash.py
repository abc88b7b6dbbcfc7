"""Crash safety: SIGKILL a bulk appender at random points; nothing acknowledged is lost and
nothing unacknowledged is half there."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foodtrace.config import Settings
from foodtrace.store.log import MerkleLog

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 15
sys.path.insert(0, str(CHILD.parent))
from crash_child import data  # noqa: E402


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_entry(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(2024)
    acked: dict[int, bytes] = {}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    settings = Settings(data_dir=tmp_path)
    MerkleLog(db_url, settings=settings).close()  # migrate once, outside the kill loop
    for run in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, str(CHILD), db_url, str(run), str(tmp_path)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.02, 0.35))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        for line in out.decode().splitlines():
            parts = line.split()
            if len(parts) != 5 or parts[0] != "ack":
                continue  # the kill may cut the last line short
            start, stop, child_run, first = map(int, parts[1:])
            for i in range(start, stop):
                acked[i] = data(child_run, first + i - start)
        with MerkleLog(db_url, settings=settings, migrate=False) as log:
            size = log.size()
            assert all(i < size for i in acked), f"run {run}: acknowledged entries lost"
            for i in rng.sample(sorted(acked), min(200, len(acked))):
                assert log.record(i).data == acked[i]
            report = log.audit()
            assert report.ok, report.problems[:3]
    assert len(acked) > 1000  # the kills did land in the middle of real work

"""The ledger commands, run as a user would, with process restarts and kill -9 between
anchors on both chains: every earlier anchor still verifies afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from anvil import DEV_KEYS, run_anvil
from ledger_log import ORIGIN, grow, make_settings, open_log
from sqlalchemy import text

from foodtrace.ledger.anchorer import journal
from foodtrace.trace import keys

CLI = [sys.executable, "-m", "foodtrace.cli"]


def _env(tmp_path: Path, chain_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOODTRACE_")}
    key_file = tmp_path / "chain.key"
    key_file.write_text(DEV_KEYS[0] + "\n")
    env.update(
        FOODTRACE_DATA_DIR=str(tmp_path),
        FOODTRACE_LOG_ORIGIN=ORIGIN,
        FOODTRACE_CHAIN_URL=chain_url,
        FOODTRACE_CHAIN_KEY_FILE=str(key_file),
        FOODTRACE_ANCHOR_EVERY_ENTRIES="1",
        FOODTRACE_ANCHOR_CONFIRMATIONS="0",
        FOODTRACE_ANCHOR_POLL_SECONDS="0.05",
    )
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def _anchored(tmp_path: Path) -> list[int]:
    with open_log(f"sqlite:///{tmp_path / 'foodtrace.db'}", make_settings(tmp_path)) as log:
        return [a.tree_size for d, a in journal(log.engine) if d.retired_at is None]


def _grow(tmp_path: Path, size: int) -> None:
    with open_log(f"sqlite:///{tmp_path / 'foodtrace.db'}", make_settings(tmp_path)) as log:
        grow(log, size)


def _restart_and_kill(tmp_path: Path, env: dict[str, str]) -> None:
    """Anchor once per process (restarts), then kill -9 a long-running anchorer mid-stream."""
    for size in (3, 5):
        _grow(tmp_path, size)
        done = _run(env, "anchor", "--once")
        assert done.returncode == 0, done.stderr
        assert f"anchored size {size}" in done.stdout
    _grow(tmp_path, 9)
    child = subprocess.Popen([*CLI, "anchor"], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while 9 not in _anchored(tmp_path):
        assert time.monotonic() < deadline and child.poll() is None, "anchorer did not anchor"
        time.sleep(0.1)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    _grow(tmp_path, 11)
    done = _run(env, "anchor", "--once")  # restarted after the crash: carries on
    assert done.returncode == 0, done.stderr
    assert _anchored(tmp_path) == [3, 5, 9, 11]


def _everything_verifies(env: dict[str, str]) -> None:
    for index in (0, 2, 4, 8, 10):
        done = _run(env, "verify", str(index))
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count("✓") == 6  # the log key on chain, then the five steps
    audit = _run(env, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    listing = _run(env, "anchors")
    assert listing.returncode == 0 and "final" in listing.stdout


@pytest.mark.slow
def test_embedded_restarts_and_kill_9(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _restart_and_kill(tmp_path, env)
    _everything_verifies(env)


@pytest.mark.slow
def test_anvil_restarts_and_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    with run_anvil(state) as url:
        _restart_and_kill(tmp_path, _env(tmp_path, url))
    with run_anvil(state) as url:  # the node itself restarted, from its state file
        _everything_verifies(_env(tmp_path, url))


def test_verify_and_audit_report_tampering(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _grow(tmp_path, 6)
    assert _run(env, "anchor", "--once").returncode == 0
    url = f"sqlite:///{tmp_path / 'foodtrace.db'}"
    with open_log(url, make_settings(tmp_path)) as log, log.engine.begin() as conn:
        conn.execute(text("UPDATE entries SET author = 'farm-666' WHERE leaf_index = 4"))
        blob = bytearray(
            conn.execute(text("SELECT data FROM entries WHERE leaf_index = 2")).scalar_one()
        )
        blob[40] ^= 1
        conn.execute(text("UPDATE entries SET data = :d WHERE leaf_index = 2"), {"d": blob})
    bad = _run(env, "verify", "2")
    assert bad.returncode == 1 and "✗" in bad.stdout
    assert _run(env, "verify", "3").returncode == 0
    audit = _run(env, "audit")
    assert audit.returncode == 1
    assert "first entry affected: 2" in audit.stdout


def test_verify_and_audit_catch_a_swapped_log_key(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _grow(tmp_path, 3)
    assert _run(env, "anchor", "--once").returncode == 0
    good = _run(env, "verify", "1")
    assert good.returncode == 0 and "✓ log key: the chain pins the key" in good.stdout
    (tmp_path / "log.key").unlink()
    keys.write_private(tmp_path / "log.key", keys.generate())  # a new key, swapped in
    bad = _run(env, "verify", "1")
    assert bad.returncode == 1
    assert "✗ log key: log key mismatch: the chain pins key hash" in bad.stdout
    audit = _run(env, "audit")
    assert audit.returncode == 1 and "entry 0: log key: log key mismatch" in audit.stdout
    anchor = _run(env, "anchor", "--once")  # nor does the anchorer anchor under it
    assert anchor.returncode == 1 and "pins log key hash" in anchor.stderr

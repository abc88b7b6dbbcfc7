"""Anchorer kill: two ``foodtrace anchor`` processes on one PostgreSQL log against anvil
while the log grows; SIGKILL of the elected anchorer at random moments (mid-anchoring: it
anchors every entry, so a kill lands between submitting, mining and journaling), a new
candidate started after each kill but the last.

Asserted: the other candidate is elected (a new epoch) and anchoring resumes; at the end the
journal's sizes strictly increase (no size anchored twice), the contract's latest anchor is
the whole log, every journaled size carries the log's root on chain and consecutive roots
are consistent (``foodtrace audit``'s check)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from anvil import DEV_KEYS, run_anvil
from faultharness import holder_pid, wait
from ledger_log import grow
from processes import environment
from seqharness import bootstrap, settings_for, sql

from foodtrace.ledger.anchorer import ANCHORER_ROLE, journal
from foodtrace.ledger.commands import audit_against_chain
from foodtrace.store.log import MerkleLog

CLI = [sys.executable, "-m", "foodtrace.cli"]
KILLS = 1
KILLS_SLOW = 3


def anchor_env(url: str, tmp_path: Path, chain_url: str) -> dict[str, str]:
    key_file = tmp_path / "chain.key"
    key_file.write_text(DEV_KEYS[0] + "\n")
    return environment(url, tmp_path, "off") | {
        "FOODTRACE_CHAIN_URL": chain_url,
        "FOODTRACE_CHAIN_KEY_FILE": str(key_file),
        "FOODTRACE_ANCHOR_EVERY_ENTRIES": "1",
        "FOODTRACE_ANCHOR_ALIGN_BITS": "0",
        "FOODTRACE_ANCHOR_CONFIRMATIONS": "0",
        "FOODTRACE_ANCHOR_POLL_SECONDS": "0.05",
        "FOODTRACE_ANCHOR_BACKOFF_MAX_SECONDS": "0.5",
    }


def start_anchorer(env: dict[str, str], tmp_path: Path, n: int) -> subprocess.Popen[bytes]:
    out = (tmp_path / f"anchorer-{n}.log").open("wb")
    return subprocess.Popen([*CLI, "anchor"], env=env, stdout=out, stderr=subprocess.STDOUT)


def anchored_sizes(log: MerkleLog) -> list[int]:
    return [a.tree_size for d, a in journal(log.engine) if d.retired_at is None]


def _kill_anchorers(pg_url: str, tmp_path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    bootstrap(pg_url, tmp_path)
    stop = threading.Event()
    with (
        run_anvil() as chain_url,
        MerkleLog(pg_url, settings=settings_for(pg_url, tmp_path), migrate=False) as log,
    ):
        env = anchor_env(pg_url, tmp_path, chain_url)

        def writer() -> None:
            while not stop.wait(0.1):
                grow(log, log.size() + 1)

        grower = threading.Thread(target=writer)
        anchorers = [start_anchorer(env, tmp_path, n) for n in range(2)]
        try:
            grower.start()
            wait(lambda: len(anchored_sizes(log)) >= 2, "the first anchors", 90)
            for k in range(kills):
                time.sleep(rng.uniform(0.2, 1.0))
                pid = holder_pid(pg_url, ANCHORER_ROLE)
                leader = next(a for a in anchorers if a.pid == pid)
                leader.send_signal(signal.SIGKILL)
                leader.wait()
                anchorers.remove(leader)
                if k + 1 < kills:  # a new candidate for the next kill (the last one needs none)
                    anchorers.append(start_anchorer(env, tmp_path, 2 + k))
                latest = max(anchored_sizes(log))
                wait(
                    lambda latest=latest: max(anchored_sizes(log)) > latest + 2,
                    "anchoring to resume after a kill",
                    90,
                )
            stop.set()
            grower.join()
            wait(lambda: max(anchored_sizes(log)) == log.size(), "the last anchor", 60)
            epochs = sql(pg_url, "SELECT epoch FROM election_epochs WHERE role = 'anchorer'")
            assert epochs[0][0] >= kills + 1  # every kill was followed by a new election
            sizes = anchored_sizes(log)
            assert sizes == sorted(set(sizes)), sizes  # strictly increasing: none twice
            # what `foodtrace audit` runs, without starting one more interpreter
            chain = {"chain_url": chain_url, "chain_key_file": tmp_path / "chain.key"}
            report = audit_against_chain(log, settings_for(pg_url, tmp_path, **chain))
            assert report.ok, report.problems[:3]
        finally:
            stop.set()
            if grower.is_alive():
                grower.join()
            for a in anchorers:
                a.terminate()
                a.wait()


def test_sigkill_of_the_anchorer_hands_over_without_gap(pg_url: str, tmp_path: Path) -> None:
    _kill_anchorers(pg_url, tmp_path, KILLS, seed=31)


@pytest.mark.long
def test_sigkill_of_the_anchorer_many_times(pg_url: str, tmp_path: Path) -> None:
    _kill_anchorers(pg_url, tmp_path, KILLS_SLOW, seed=32)

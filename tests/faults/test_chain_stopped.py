"""Chain stopped: anvil is stopped (gracefully, so it writes its ``--state`` file) while
writes continue, then started again from that file on the same port.

Asserted: every write succeeds while the node is down (the log does not depend on the
chain); ``/healthz`` says the chain is unreachable, the status is ``degraded`` and the anchor
lag in entries grows; once the node is back the anchorer, which backed off without dying,
catches up to the whole log, the lag is 0 and the log audits clean against the chain.

Then the same node killed with ``-9``: anvil keeps across that only its last periodic
``--state`` dump, so anchors sent after it are gone from the chain; the anchorer must
notice, send them again, and the log must audit clean against what the chain holds."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anvil import DEV_KEYS, HARDFORK, _free_port, _wait_ready, anvil_binary, run_anvil
from fastapi.testclient import TestClient
from faultharness import wait
from seqharness import Regulator, bootstrap, settings_for

from foodtrace.api.app import create_app
from foodtrace.ledger.anchorer import journal
from foodtrace.ledger.commands import audit_against_chain
from foodtrace.observe.health import CHAIN_PROBE_TTL_S
from foodtrace.store.log import MerkleLog

WRITES_WHILE_DOWN = 6


@dataclass
class Anchored:
    """The app (anchorer running, every entry anchored on the node at ``port``) under a test
    client, and what both tests ask of it."""

    http: TestClient
    log: MerkleLog
    app: Any
    reg: Regulator
    port: int
    state: Path

    def anchored(self) -> int:
        entries = journal(self.log.engine)
        return max((a.tree_size for d, a in entries if a.status == "final"), default=0)

    def register(self, n: int) -> None:
        e = self.reg.party(n)
        r = self.http.post(
            "/api/v1/parties",
            json={"entry": e.unsigned() | {"sig": e.sig}},
            headers={"Authorization": f"Bearer {self.reg.token}"},
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def chain_app(pg_url: str, tmp_path: Path) -> Iterator[Anchored]:
    reg = bootstrap(pg_url, tmp_path)
    port, state = _free_port(), tmp_path / "anvil-state.json"
    key_file = tmp_path / "chain.key"
    key_file.write_text(DEV_KEYS[0] + "\n")
    settings = settings_for(
        pg_url,
        tmp_path,
        chain_url=f"http://127.0.0.1:{port}",
        chain_key_file=key_file,
        anchor_every_entries=1,
        anchor_align_bits=0,
        anchor_confirmations=0,
        anchor_poll_seconds=0.05,
        anchor_backoff_max_seconds=0.5,
    )
    app = create_app(settings, run_anchorer=True)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Anchored(http, app.state.log, app, reg, port, state)


def test_writes_go_on_while_the_chain_is_down_and_anchors_catch_up(chain_app: Anchored) -> None:
    c = chain_app
    log, anchored, register = c.log, c.anchored, c.register

    def health() -> dict[str, Any]:
        r = c.http.get("/healthz")
        assert r.status_code == 200, r.text
        return dict(r.json())

    with run_anvil(c.state, c.port):
        register(1)
        wait(lambda: anchored() == log.size(), "the first anchor", 60)
        wait(lambda: health()["anchor_lag"]["entries"] == 0, "no lag", CHAIN_PROBE_TTL_S + 5)
        assert health()["chain"]["reachable"] is True
    # the node is down
    lags = []
    for n in range(2, 2 + WRITES_WHILE_DOWN):
        register(n)
        lags.append(health()["anchor_lag"]["entries"])
    assert lags == sorted(lags) and lags[-1] > lags[0] > 0, lags  # the lag grows
    wait(lambda: health()["chain"]["reachable"] is False, "healthz to see the chain down", 15)
    down = health()
    assert down["status"] == "degraded" and down["database"]["reachable"] is True
    assert down["anchor_lag"]["entries"] == log.size() - anchored()
    assert c.app.state.anchorer.failures > 0  # it tried, backed off, and lives on
    behind = log.size()
    with run_anvil(c.state, c.port):  # back, from its state file, where it was
        wait(lambda: anchored() == behind, "anchoring to catch up", 60)
        register(99)
        wait(lambda: anchored() == log.size(), "the next anchor", 60)
        wait(lambda: health()["chain"]["reachable"] is True, "healthz", 15)
        assert health()["anchor_lag"]["entries"] == 0
        report = audit_against_chain(log)
        assert report.ok, report.problems[:3]


@contextmanager
def hard_killed_anvil(state: Path, port: int, log_file: Path) -> Iterator[str]:
    """anvil dumping its state every second, ended with SIGKILL (no dump on exit): it comes
    back with what its last periodic dump held, so the latest anchors may be gone."""
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--hardfork", HARDFORK, "--state", str(state), "--state-interval", "1"]
    with log_file.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log_file)
        yield url
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_chain_node_killed_9_comes_back_from_its_last_dump_and_anchors_catch_up(
    chain_app: Anchored, tmp_path: Path
) -> None:
    c = chain_app
    log, anchored, register = c.log, c.anchored, c.register
    anvil_log = tmp_path / "anvil.log"
    with hard_killed_anvil(c.state, c.port, anvil_log):
        register(1)
        wait(lambda: anchored() == log.size(), "the first anchor", 60)
        time.sleep(2.5)  # in a periodic dump
        register(2)
        wait(lambda: anchored() == log.size(), "the second anchor", 60)
    # killed -9 right after the second anchor: its last dump probably lacks it
    register(3)
    with hard_killed_anvil(c.state, c.port, anvil_log):
        wait(lambda: anchored() == log.size(), "anchoring to catch up", 60)
        report = audit_against_chain(log)
        assert report.ok, report.problems[:3]
    rows = [(a.tree_size, a.status, a.submissions) for d, a in journal(log.engine)]
    print(f"journal after the kill -9: {rows}")

"""Run anvil (from the npm package ``@foundry-rs/anvil``) as a local JSON-RPC chain for tests.

anvil listens on 127.0.0.1 on a free port and is stopped afterwards; with ``state`` it loads
that file on start and writes it back on a graceful stop, which is how a node restart is
tested. A missing binary fails the test: the external-chain path must not go untested.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = (
    REPO / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil",
    REPO / "node_modules/.bin/anvil",
)
# anvil's well-known development accounts (mnemonic "test test ... junk"): never use elsewhere.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
)
HARDFORK = "prague"  # the contract is compiled for it
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def anvil_binary() -> Path:
    """The anvil executable from node_modules (or ``FOODTRACE_ANVIL``); fails the test if absent."""
    override = os.environ.get("FOODTRACE_ANVIL")
    for path in ((Path(override),) if override else ()) + CANDIDATES:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    pytest.fail(
        "anvil not found: run `npm install` in the repository (package.json lists "
        f"@foundry-rs/anvil); looked for {', '.join(str(p) for p in CANDIDATES)}",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = log.read_text(errors="replace")
            pytest.fail(f"anvil exited with {proc.returncode} before answering:\n{out}")
        try:
            if httpx.post(url, json=body, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    pytest.fail(f"anvil did not answer on {url} within {START_TIMEOUT_S} s")


@contextmanager
def run_anvil(state: Path | None = None, port: int | None = None) -> Iterator[str]:
    """Start anvil, yield its RPC URL, and stop it gracefully (dumping ``state`` if given).
    ``port``: the same one again, for a node restarted where its clients expect it."""
    port = port or _free_port()
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--hardfork", HARDFORK]
    if state is not None:
        args += ["--state", str(state)]
    # anvil logs every request: to a file, never to a pipe nobody drains (a full pipe blocks
    # anvil's writes and with them every RPC answer).
    log_dir = tempfile.mkdtemp(prefix="anvil-")
    log = Path(log_dir) / "anvil.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # graceful: anvil writes --state on exit
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(log_dir, ignore_errors=True)

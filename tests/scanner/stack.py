"""A running FoodTrace on loopback for the scanner: the demo data anchored on anvil, served by
``foodtrace serve`` in a subprocess, and a fork of the same log (same key, different history)
served beside it. Shared by the scanner tests and ``bench/scan.py``.

``foodtrace demo`` always seeds onto the embedded chain (``demo_settings`` pins
``chain_url=""``), which a separate scanner process cannot read; here its ``prepare`` runs
with the same settings pointed at anvil instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx

from foodtrace import demo
from foodtrace.config import Settings
from foodtrace.demo import shell as demo_shell
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0  # two servers start at once on a loaded 2-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def settings_for(data_dir: Path, port: int, rpc: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url="",
        chain_url=rpc,
        contract_address="",
        public_base_url=f"http://127.0.0.1:{port}",
        host="127.0.0.1",
        port=port,
        anchor_every_seconds=3600.0,
    )


@dataclass(frozen=True)
class Seeded:
    data_dir: Path
    port: int
    contract: str
    log_key: str
    authority_key: str  # base64 public key
    anchored_size: int
    qr: list[tuple[Path, str]]


def seed(data_dir: Path, port: int, rpc: str, operator_key: str) -> Seeded:
    """The demo's data, anchored on the chain at ``rpc`` by ``operator_key``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "chain.key").write_text(operator_key + "\n")
    settings = settings_for(data_dir, port, rpc)
    # prepare() reads demo_settings from the module it is defined in (foodtrace.demo.shell)
    with mock.patch.object(demo_shell, "demo_settings", lambda _d, _p: settings):
        summary = demo.prepare(data_dir, port=port)
    assert summary.contract_address and summary.chain_size
    authority = load_or_create_key(data_dir / demo.AUTHORITY_KEY_FILE)
    return Seeded(
        data_dir,
        port,
        summary.contract_address,
        summary.verifier_key,
        keys.public_to_b64(authority),
        summary.chain_size,
        summary.qr,
    )


def append_note(data_dir: Path, rpc: str, text: str) -> int:
    """Append one regulator-signed entry straight to the log (no server may run on it) and
    issue a checkpoint; returns the new size. Two copies of a log given different notes are
    two histories signed by the same log key."""
    settings = settings_for(data_dir, 0, rpc)
    key = keys.read_private(data_dir / demo.REGULATOR_KEY_FILE)
    with MerkleLog(settings=settings, migrate=False) as log:
        author = log.entry(0).author
        entry = entry_mod.sign(key, type="note", author=author, body={"text": text})
        log.append([entry])
        return log.issue_checkpoint().size


def fork(data_dir: Path, to: Path) -> None:
    shutil.copytree(data_dir, to)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``url/healthz`` answers 200; raises if the process exits or it takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on {url} did not start in {START_TIMEOUT_S} s")
        time.sleep(0.1)


@contextmanager
def serve(
    data_dir: Path, port: int, rpc: str, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """``foodtrace serve --no-anchor`` on ``data_dir`` (``extra_env``: more settings);
    yields its base URL."""
    env = {
        **os.environ,
        "FOODTRACE_DATA_DIR": str(data_dir),
        "FOODTRACE_DATABASE_URL": "",
        "FOODTRACE_CHAIN_URL": rpc,
        "FOODTRACE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # The tamper tests edit rows behind the projectors' back: pages are built per scan.
        "FOODTRACE_PAGE_VIEWS": "false",
        **(extra_env or {}),
    }
    log = data_dir.parent / f"server-{port}.log"  # a file: a pipe nobody drains can fill
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "foodtrace.cli", "serve", "--no-anchor", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

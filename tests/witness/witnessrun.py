"""Witness processes for tests: ``python -m foodtrace.witness init`` and ``serve`` as separate
processes on 127.0.0.1 free ports, each logging to a file, stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RunningWitness:
    name: str
    vkey: str
    url: str
    directory: Path

    @property
    def endpoint(self) -> str:
        """As ``FOODTRACE_WITNESSES`` lists it."""
        return f"{self.vkey}@{self.url}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "foodtrace.witness", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextlib.contextmanager
def run_witness(directory: Path, name: str, log_vkeys: list[str]) -> Iterator[RunningWitness]:
    vkey = cli(
        "init",
        "--dir",
        str(directory),
        "--name",
        name,
        *(a for k in log_vkeys for a in ("--log", k)),
    )
    port = free_port()
    log = directory.parent / f"{directory.name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "foodtrace.witness",
                "serve",
                "--dir",
                str(directory),
                "--port",
                str(port),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"witness exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(url + "/", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("witness did not start") from None
                time.sleep(0.05)
        yield RunningWitness(name, vkey, url, directory)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

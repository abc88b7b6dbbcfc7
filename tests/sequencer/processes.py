"""Worker and sequencer processes for the multi-process tests: uvicorn with several workers
(its own process group, so the whole group stops with it), sequencers as ``foodtrace
sequencer``; every process logs to a file, and clients record what was acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from seqharness import Regulator

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(url: str, tmp_path: Path, mode: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FOODTRACE_DATABASE_URL": url,
        "FOODTRACE_DATA_DIR": str(tmp_path / "var"),
        "FOODTRACE_LOG_KEY_FILE": str(tmp_path / "log.key"),
        "FOODTRACE_LOG_ORIGIN": "test.foodtrace/log",
        "FOODTRACE_SEQUENCER": mode,
        "FOODTRACE_SEQUENCER_WAIT_S": "20",
    }


def start_workers(url: str, tmp_path: Path, mode: str, workers: int) -> tuple[Any, str]:
    """``uvicorn --factory --workers N foodtrace.api.worker:app``; returns it and its URL."""
    port = free_port()
    out = (tmp_path / f"uvicorn-{port}.log").open("wb")
    app = ["-m", "uvicorn", "--factory", "foodtrace.api.worker:app"]
    bind = ["--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, *app, *bind],
        env=environment(url, tmp_path, mode),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / f"uvicorn-{port}.log").read_text()
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the workers did not start")


def stop_group(proc: Any) -> None:
    """Stop a process started with its own session, and its children."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_sequencer(url: str, tmp_path: Path, n: int) -> subprocess.Popen[bytes]:
    out = (tmp_path / f"sequencer-{n}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "foodtrace.cli", "sequencer"],
        env=environment(url, tmp_path, "candidate"),
        stdout=out,
        stderr=subprocess.STDOUT,
    )


@dataclass
class Clients:
    """Threads registering distinct parties until stopped: ``acked`` maps each acknowledged
    entry index to the party it registered; ``failed`` counts answers other than 201."""

    base: str
    regulator: Regulator
    threads: int
    per_thread: int | None = None
    acked: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self, t: int) -> None:
        headers = {"Authorization": f"Bearer {self.regulator.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=40) as http:
            i = 0
            while not self.stop.is_set() and (self.per_thread is None or i < self.per_thread):
                n = t * 100_000 + i
                i += 1
                e = self.regulator.party(n)
                try:
                    r = http.post("/api/v1/parties", json={"entry": e.unsigned() | {"sig": e.sig}})
                except httpx.HTTPError:
                    status = 0  # the worker died under the request: not acknowledged
                else:
                    status = r.status_code
                with self._lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == 201:
                        index = r.json()["entry_index"]
                        assert index not in self.acked, f"index {index} acknowledged twice"
                        self.acked[index] = e.body["party_id"]

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._run, args=(t,)) for t in range(self.threads)]
        for th in threads:
            th.start()
        return threads

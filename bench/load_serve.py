"""The processes of ``bench/load.py``: FoodTrace's workers and the anchorer, the bare route
of the reference, each in its own session (stopped with its children), logging to a file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def constant_app():  # type: ignore[no-untyped-def]
    """uvicorn factory: the framework's ceiling, one route returning a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


def environment(url: str, out: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}",
        "FOODTRACE_DATABASE_URL": url,
        "FOODTRACE_DATA_DIR": str(out / "var"),
        "FOODTRACE_LOG_KEY_FILE": str(out / "log.key"),
        "FOODTRACE_LOG_ORIGIN": "province.foodtrace/log",
        "FOODTRACE_SEQUENCER": "candidate",
        "FOODTRACE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as f:
        return subprocess.Popen(
            args, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True
        )


def uvicorn(factory: str, port: int, workers: int, env: dict[str, str], log: Path) -> Any:
    args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--workers", str(workers)]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    proc = start(args, env, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{factory} exited: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{factory} did not start: see {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

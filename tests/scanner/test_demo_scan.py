"""``foodtrace demo`` as a new user runs it: the scan command it prints verifies its printed QR
codes over the embedded chain's JSON-RPC (exit 0), and fails (exit 1) once a row the page
displays is altered in the database. Then the keys: the server refuses to start without
them."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rfc8785
import stack

REPO = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-m", "foodtrace.cli", "demo"]
SEED_TIMEOUT_S = 600.0  # seeding + the first anchor on py-evm, on a loaded machine


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    command: list[str]
    output: Path


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOODTRACE_")}
    env["PYTHONPATH"] = str(REPO)
    env["HOME"] = str(data_dir.parent)  # no scanner state of the user's is read or written
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("demo")
    data_dir, port = root / "demo", stack.free_port()
    output = root / "demo.out"  # a file: a pipe nobody drains can fill
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [*DEMO, "--data-dir", str(data_dir), "--port", str(port)],
            cwd=root,
            env=_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SEED_TIMEOUT_S
        command: list[str] = []
        while not command:
            text = output.read_text("utf-8", errors="replace")
            lines = [line.strip() for line in text.splitlines()]
            found = [line for line in lines if line.startswith("foodtrace-scan ")]
            if found and f"serving on http://127.0.0.1:{port}" in text:
                command = shlex.split(found[0])
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"demo did not come up: {text[-3000:]}")
            time.sleep(0.5)
        stack.wait_healthy(f"http://127.0.0.1:{port}", proc, output)
        yield Demo(data_dir, command, output)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _scan(demo: Demo, *extra: str) -> tuple[int, dict[str, object]]:
    """The printed command, exactly, as ``python -m`` of its entry point (plus --json)."""
    assert demo.command[0] == "foodtrace-scan"
    result = subprocess.run(
        [sys.executable, "-m", "foodtrace.scanner.cli", *demo.command[1:], "--json", *extra],
        cwd=demo.data_dir.parent,
        env=_env(demo.data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        data = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(result.stdout[-2000:] + result.stderr[-2000:]) from None
    return result.returncode, data


def _failures(data: dict[str, object]) -> list[str]:
    codes = data["codes"]
    assert isinstance(codes, list)
    out: list[str] = []
    for c in codes:
        out += [f"{s['step']}: {s['detail']}" for s in c["steps"] if s["status"] == "failed"]
        for r in c["records"]:
            out += [f"{r['index']} {s['step']}" for s in r["steps"] if s["status"] == "failed"]
    return out


def _until_served(url: str, index: int, data: str) -> None:
    """Until the resolver's answer for ``url`` carries ``data`` as entry ``index``: it keeps a
    built page for about a second and serves it stale while it rebuilds."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(url, headers={"Accept": "application/json"}).json()
        if any(r["index"] == index and r["data"] == data for r in answer["proofs"]["records"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"the resolver never served the altered entry {index}")


def test_printed_command_verifies_the_codes_then_catches_an_altered_row_and_keys_are_kept(
    demo: Demo, tmp_path: Path
) -> None:
    text = demo.output.read_text("utf-8")
    assert "run by this same server" in text and "does not control" in text
    pins = {demo.command[i]: demo.command[i + 1] for i in range(1, len(demo.command) - 1, 2)}
    assert {"--authority-key", "--log-key", "--rpc", "--contract", "--state"} <= set(pins)
    assert pins["--rpc"].endswith("/chain/rpc")
    code, data = _scan(demo)
    codes = data["codes"]
    assert isinstance(codes, list) and len(codes) == len(list((demo.data_dir / "qr").glob("*.png")))
    assert code == 0, _failures(data)
    steps = {s["step"]: s["status"] for s in codes[0]["steps"]}
    assert steps == {"code": "ok", "log key": "ok", "fetch": "ok", "subject": "ok"}

    db = sqlite3.connect(demo.data_dir / "foodtrace.db")
    shown = codes[-1]["records"][0]["index"]  # a record the code's page displays
    [original] = db.execute("SELECT data FROM entries WHERE leaf_index = ?", (shown,)).fetchone()
    altered = json.loads(original)
    altered["issued_at"] = "2020-01-01T00:00:00Z"
    try:
        db.execute(
            "UPDATE entries SET data = ? WHERE leaf_index = ?", (rfc8785.dumps(altered), shown)
        )
        db.commit()
        _until_served(codes[-1]["text"], shown, rfc8785.dumps(altered).decode())
        code, data = _scan(demo)
    finally:
        db.execute("UPDATE entries SET data = ? WHERE leaf_index = ?", (original, shown))
        db.commit()
        db.close()
    assert code == 1
    assert any(f.startswith(f"{shown} ") for f in _failures(data)), _failures(data)
    _refuses_to_start_without_its_keys(demo, tmp_path)


def _refuses_to_start_without_its_keys(demo: Demo, tmp_path: Path) -> None:
    """A copy of the demo's data without one key file: `foodtrace serve` stops, naming it
    (after the scans above: codes are known issued once one was scanned)."""
    for name in ("log.key", "code-authority.key", "master.key"):
        copy = tmp_path / name / "data"
        shutil.copytree(demo.data_dir, copy)
        for lock in copy.glob("*.lock"):
            lock.unlink()
        (copy / name).unlink()
        env = _env(copy) | {"FOODTRACE_DATA_DIR": str(copy)}
        if name == "code-authority.key":
            db = sqlite3.connect(copy / "foodtrace.db")
            count = db.execute("SELECT COUNT(*) FROM scan_counts").fetchone()[0]
            db.close()
            assert count > 0
        result = subprocess.run(
            [sys.executable, "-m", "foodtrace.cli", "serve", "--no-anchor", "--port", "9"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1, (name, result.stdout[-1500:], result.stderr[-1500:])
        assert f"{copy / name} is missing" in result.stderr
        assert "Restore that file" in result.stderr
        assert not (copy / name).exists()  # and no new key was made in its place

"""The scanner trusts nothing of ours: it imports with the server's packages blocked, and it
reads the chain through its own few lines of JSON-RPC, whose selectors match the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from eth_utils.crypto import keccak

from foodtrace.scanner.chain import SELECTORS, call_data

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "foodtrace" / "ledger" / "artifacts" / "TraceAnchor.json"
BLOCKED = (
    "foodtrace.config",
    "foodtrace.store",
    "foodtrace.ledger",
    "foodtrace.api",
    "eth_tester",
    "evm",
    "web3",
)
# Imports every scanner module with a meta-path hook refusing the server's packages, py-evm
# and web3's providers; prints what it refused (nothing, if the scanner is independent).
PROBE = f"""
import importlib, importlib.abc, json, sys
BLOCKED = {BLOCKED!r}
refused = []
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            refused.append(name)
            raise ImportError("blocked for the scanner: " + name)
        return None
sys.meta_path.insert(0, Refuse())
for module in ("foodtrace.scanner.cli", "foodtrace.scanner.verify", "foodtrace.scanner.chain",
               "foodtrace.scanner.client", "foodtrace.scanner.state", "foodtrace.scanner.report",
               "foodtrace.scanner.decode"):
    importlib.import_module(module)
from foodtrace.scanner.cli import app
loaded = sorted(m for m in sys.modules if m.startswith("foodtrace"))
print(json.dumps({{"refused": refused, "loaded": loaded}}))
"""


def test_scanner_imports_with_the_server_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["refused"] == []
    outside = [
        m
        for m in report["loaded"]
        if m != "foodtrace" and not m.startswith(("foodtrace.scanner", "foodtrace.trace"))
    ]
    assert outside == []


def test_the_hook_does_refuse() -> None:
    """The probe is not vacuous: importing the server's ledger under it fails."""
    probe = PROBE.replace('"foodtrace.scanner.decode"):', '"foodtrace.ledger.contract"):')
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0 and "blocked for the scanner: foodtrace.ledger" in result.stderr


def test_selectors_are_the_contracts() -> None:
    abi = json.loads(ARTIFACT.read_text())["abi"]
    functions = {
        f"{f['name']}({','.join(i['type'] for i in f['inputs'])})"
        for f in abi
        if f["type"] == "function"
    }
    for signature, selector in SELECTORS.items():
        assert signature in functions
        assert keccak(text=signature)[:4].hex() == selector
    data = call_data("anchorAt(bytes32,uint64)", b"\x11" * 32, 5)
    assert data == "0x8c0d6778" + "11" * 32 + "00" * 31 + "05"

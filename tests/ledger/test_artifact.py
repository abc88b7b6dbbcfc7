"""The committed TraceAnchor artifact is what the pinned compiler makes of the source.

Python deploys and calls the contract from ``foodtrace/ledger/artifacts/TraceAnchor.json``
(package data: no Node at run time), so a source edit without a recompile would ship stale
bytecode. This recompiles with the pinned solc-js and compares, and checks the artifact's
shape that the web3 client relies on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "foodtrace" / "ledger" / "artifacts" / "TraceAnchor.json"
SOURCE = REPO / "contracts" / "TraceAnchor.sol"
SETUP_HINT = "run `bash scripts/setup.sh --dev` to install the npm toolchain"

# The interface other modules code against; a change here is a change of contract.
FUNCTIONS = {
    "owner",
    "transferOwnership",
    "registerLog",
    "rotateLogKey",
    "logKeyHash",
    "setAnchorer",
    "isAnchorer",
    "anchor",
    "latest",
    "anchorAt",
}
ERRORS = {
    "NotOwner",
    "LogAlreadyRegistered",
    "EmptyKeyHash",
    "UnknownLog",
    "NotAnchorer",
    "SizeNotIncreasing",
    "BadProofLength",
    "InconsistentRoot",
}
EVENTS = {"LogRegistered", "LogKeyRotated", "AnchorerSet", "Anchored", "OwnershipTransferred"}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: {SETUP_HINT}")
    if not (REPO / "node_modules" / "solc" / "soljson.js").exists():
        pytest.fail(f"node_modules/solc is missing: {SETUP_HINT}")
    return node


@pytest.mark.node
def test_artifact_matches_fresh_compile() -> None:
    result = subprocess.run(
        [_node(), "scripts/compile-contract.js", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_artifact_shape() -> None:
    artifact = json.loads(ARTIFACT.read_text())
    assert artifact["sourceSha256"] == hashlib.sha256(SOURCE.read_bytes()).hexdigest(), (
        "contracts/TraceAnchor.sol changed since the artifact was built: "
        "run `node scripts/compile-contract.js`"
    )
    assert artifact["settings"]["evmVersion"] == "prague"
    assert artifact["compiler"].startswith("0.8.")
    for key in ("bytecode", "deployedBytecode"):
        assert artifact[key].startswith("0x") and len(artifact[key]) > 2, key
        bytes.fromhex(artifact[key][2:])
    by_type: dict[str, set[str]] = {}
    for item in artifact["abi"]:
        by_type.setdefault(item["type"], set()).add(item.get("name", ""))
    assert by_type["function"] == FUNCTIONS
    assert by_type["error"] == ERRORS
    assert by_type["event"] == EVENTS

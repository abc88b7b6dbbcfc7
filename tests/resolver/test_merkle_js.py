"""The page's RFC 9162 consistency check (``static/merkle.js``) agrees with the core's.

Every pair of sizes up to 40 leaves, with the core's proof (must pass), the proof with its
last hash zeroed and the roots swapped (must fail), run in Node with WebCrypto.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from foodtrace.trace import merkle

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "foodtrace" / "resolver" / "static" / "merkle.js"
RUNNER = Path(__file__).parent / "js" / "consistency.mjs"
LEAVES = 40


def cases() -> list[dict[str, object]]:
    tree = merkle.MemoryTree([merkle.leaf_hash(str(i).encode()) for i in range(LEAVES)])

    def enc(hashes: list[bytes]) -> list[str]:
        return [base64.b64encode(h).decode() for h in hashes]

    out: list[dict[str, object]] = []
    for s1 in range(1, LEAVES + 1):
        for s2 in range(s1, LEAVES + 1):
            proof = merkle.consistency_proof(s1, s2, tree.read)
            r1, r2 = enc([merkle.root(tree.leaves[:s1]), merkle.root(tree.leaves[:s2])])
            out.append({"s1": s1, "s2": s2, "proof": enc(proof), "r1": r1, "r2": r2, "ok": True})
            if proof:
                bad = enc([*proof[:-1], bytes(32)])
                out.append({"s1": s1, "s2": s2, "proof": bad, "r1": r1, "r2": r2, "ok": False})
                swapped = {"proof": enc(proof), "r1": r2, "r2": r1, "ok": False}
                out.append({"s1": s1, "s2": s2, **swapped})
    return out


@pytest.mark.node
def test_the_pages_consistency_check_agrees_with_the_core(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node 20+")
    data = tmp_path / "cases.json"
    data.write_text(json.dumps(cases()))
    done = subprocess.run(
        [node, str(RUNNER), str(MODULE), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "wrong 0" in done.stdout

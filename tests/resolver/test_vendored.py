"""The page's vendored crypto is exactly what the pinned npm packages build to.

``foodtrace/resolver/static/vendor/noble.js`` bundles @noble/ed25519 and @noble/hashes as
pinned in package.json (scripts/build-noble.js); a version bump or a hand edit without a
rebuild would ship code nobody reviewed, so this rebuilds from ``node_modules`` and compares
byte for byte, and checks the licences ship beside it and the resolver serves it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from foodtrace.api.app import create_app
from foodtrace.config import Settings

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "foodtrace" / "resolver" / "static" / "vendor"
PACKAGES = ("@noble/ed25519", "@noble/hashes")
MAX_BUNDLE_BYTES = 20_000  # pages must stay fast on a weak connection


@pytest.mark.node
def test_the_vendored_bundle_equals_a_rebuild_of_the_pinned_packages() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: run `npm ci` and install Node 20+")
    done = subprocess.run(
        [node, "scripts/build-noble.js", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_bundle_names_the_pinned_versions_and_ships_their_licences() -> None:
    pins = json.loads((REPO / "package.json").read_text())["devDependencies"]
    banner = (VENDOR / "noble.js").read_text().splitlines()[0]
    for name in PACKAGES:
        assert re.fullmatch(r"\d+\.\d+\.\d+", pins[name]), f"{name} is not pinned exactly"
        assert f"{name} {pins[name]}" in banner
        licence = VENDOR / f"noble-{name.split('/')[1]}.LICENSE"
        installed = REPO / "node_modules" / name / "LICENSE"
        assert licence.read_text() == installed.read_text()
        assert "MIT License" in licence.read_text()
    assert (VENDOR / "noble.js").stat().st_size < MAX_BUNDLE_BYTES
    assert not (VENDOR.parent / "sha256.js").exists(), "the hand-written SHA-256 is gone"


def test_the_resolver_serves_the_bundle(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, chain_url="", contract_address=""))
    with TestClient(app) as client:
        got = client.get("/static/resolver/noble.js")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/javascript")
    assert got.content == (VENDOR / "noble.js").read_bytes()

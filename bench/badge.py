"""The badge's crypto in headless Chromium: the vendored @noble/ed25519 + @noble/hashes
(what in-app browsers without WebCrypto Ed25519 run) beside the browser's own WebCrypto,
measured in the same page and run: Ed25519 verifications and SHA-256 of 101-byte leaves
per second (what a page's checkpoints and inclusion proofs cost).

    .venv/bin/python bench/badge.py             (~20 s: 300 verifications, 20k hashes)
    .venv/bin/python bench/badge.py --full      (3,000 verifications, 200k hashes)
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import sync_playwright
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "resolver"))
from browsing import ARGS, CHROMIUM  # noqa: E402

NOBLE = REPO / "foodtrace" / "resolver" / "static" / "vendor" / "noble.js"

MEASURE = """async ([sigs, hashes]) => {
  const b = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const items = sigs.map(([p, s, m]) => [b(p), b(s), b(m)]);
  const leaf = new Uint8Array(101).fill(7);
  const out = {};
  let t = performance.now(), ok = 0;
  for (const [p, s, m] of items) ok += window.ftNoble.verify(s, m, p) ? 1 : 0;
  out.noble_verify = [items.length / ((performance.now() - t) / 1000), ok];
  t = performance.now(); ok = 0;
  for (const [p, s, m] of items) {
    const k = await crypto.subtle.importKey("raw", p, {name: "Ed25519"}, false, ["verify"]);
    ok += (await crypto.subtle.verify({name: "Ed25519"}, k, s, m)) ? 1 : 0;
  }
  out.webcrypto_verify = [items.length / ((performance.now() - t) / 1000), ok];
  t = performance.now();
  for (let i = 0; i < hashes; i++) window.ftNoble.sha256(leaf);
  out.noble_sha256 = [hashes / ((performance.now() - t) / 1000), hashes];
  t = performance.now();
  for (let i = 0; i < hashes; i++) await crypto.subtle.digest("SHA-256", leaf);
  out.webcrypto_sha256 = [hashes / ((performance.now() - t) / 1000), hashes];
  return out;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="10x the default sizes")
    args = parser.parse_args()
    n_sigs, n_hashes = (3000, 200_000) if args.full else (300, 20_000)
    sigs = []
    for i in range(n_sigs):
        key = Ed25519PrivateKey.generate()
        msg = f"checkpoint body {i}\n".encode()
        pub = key.public_key().public_bytes_raw()
        sigs.append([base64.b64encode(x).decode() for x in (pub, key.sign(msg), msg)])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        # A secure context (localhost), as WebCrypto needs, served from memory.
        page.route("http://localhost/**", lambda r: r.fulfill(content_type="text/html", body=""))
        page.goto("http://localhost/bench")
        page.add_script_tag(content=NOBLE.read_text())
        got = page.evaluate(MEASURE, [sigs, n_hashes])
        browser.close()
    table = Table(title=f"Badge crypto in Chromium ({NOBLE.stat().st_size:,} B bundle)")
    for col in ("operation", "vendored noble /s", "WebCrypto /s (reference)", "ratio"):
        table.add_column(col, justify="right")
    for op, label, count in (
        ("verify", "Ed25519 verify", n_sigs),
        ("sha256", "SHA-256, 101-byte leaf", n_hashes),
    ):
        (ours, ok_a), (ref, ok_b) = got[f"noble_{op}"], got[f"webcrypto_{op}"]
        assert ok_a == ok_b == count, f"{label}: {ok_a} / {ok_b} of {count} verified"
        table.add_row(label, f"{ours:,.0f}", f"{ref:,.0f}", f"{ours / ref:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()

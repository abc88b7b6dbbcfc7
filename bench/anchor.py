"""Gas of anchoring: per anchor with its consistency proof at 1k..10M entries, per entry at
1k/10k/100k entries per anchor, and against a naive one-transaction-per-entry anchoring.

Per anchor, three previous anchors: one 10k-entry step back; the worst arbitrary size (what a
time-triggered exact anchor can leave behind); and the worst size our anchoring policy makes,
a multiple of 2**ANCHOR_ALIGN_BITS (see :func:`foodtrace.ledger.anchorer.anchor_size`). The
1M-entry target is judged on the policy's worst case.

Run: ``.venv/bin/python bench/anchor.py`` (embedded chain; anvil too if node_modules has it).

Big trees are real trees: their leaves repeat a block of 2**10 distinct leaves, so every
perfect subtree at or above level 10 has a memoised hash and the roots and consistency proofs
of a ten-million-leaf tree cost a few thousand hashes (the contract cannot tell: it checks the
proof against the two roots). Gas is the receipt's ``gasUsed`` of a mined transaction.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from foodtrace.config import ANCHOR_ALIGN_BITS
from foodtrace.ledger.chain import Chain, connect_embedded, connect_rpc
from foodtrace.ledger.contract import TraceAnchor, deploy
from foodtrace.trace.merkle import (
    PeriodicTree,
    consistency_nodes,
    consistency_proof,
    verify_consistency,
)

REPO = Path(__file__).resolve().parents[1]
ANVIL = REPO / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # dev account 0
TREE_SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
STEP = 10_000  # a realistic cadence: one anchor per 10k entries (ANCHOR_EVERY_ENTRIES)
PER_ANCHOR = (1_000, 10_000, 100_000)
PER_ENTRY_AT = 1_000_000  # tree size at which the per-entry figures are measured
NAIVE_SAMPLE = 20
PERIOD_LEVEL = 10
TARGET_1M = 100_000
TARGET_PER_ENTRY_10K = 10


def worst_old_size(size: int) -> int:
    """An earlier size whose consistency proof into ``size`` is longest (among candidates
    that cover every proof shape: 2**k - 1 and size - 2**k +/- 1)."""
    candidates = {(1 << k) - 1 for k in range(1, size.bit_length())}
    candidates |= {size - (1 << k) + d for k in range(size.bit_length()) for d in (-1, 1)}
    valid = [c for c in candidates if 0 < c < size]
    return max(valid, key=lambda c: (len(consistency_nodes(c, size)), c))


def proof_hashes(old: int, new: int) -> int:
    """How many hashes the consistency proof from ``old`` to ``new`` has (values unread)."""
    return len(consistency_proof(old, new, lambda nodes: [bytes(32)] * len(nodes)))


def worst_aligned_old_size(size: int, bits: int = ANCHOR_ALIGN_BITS) -> int | None:
    """The earlier multiple of ``2**bits`` whose proof into ``size`` is longest, by trying
    them all (None: no such size below ``size``, so anchors there are exact)."""
    candidates = range(1 << bits, size, 1 << bits)
    return max(candidates, key=lambda c: (proof_hashes(c, size), c), default=None)


class Bench:
    def __init__(self, chain: Chain, tree: PeriodicTree) -> None:
        self.chain = chain
        self.tree = tree
        self.contract = TraceAnchor(chain, deploy(chain))
        self.logs = 0

    def new_log(self) -> bytes:
        self.logs += 1
        log = hashlib.sha256(b"bench-log-%d" % self.logs).digest()
        self.contract.register_log(log, hashlib.sha256(b"bench-key").digest())
        self.contract.set_anchorer(log, self.chain.address)
        return log

    def anchor(self, log: bytes, old: int, new: int) -> tuple[int, int]:
        """Anchor ``new`` after ``old`` (already anchored, or 0); returns (gas, proof hashes)."""
        proof = consistency_proof(old, new, self.tree.read) if old else []
        if old:
            verify_consistency(old, new, proof, self.tree.root(old), self.tree.root(new))
        summary = self.contract.anchor(log, new, self.tree.root(new), proof)
        return summary.gas_used, len(proof)

    def step(self, old: int, new: int) -> tuple[int, int]:
        """Gas of anchoring ``new`` in a log whose latest anchor is ``old``."""
        log = self.new_log()
        self.anchor(log, 0, old)
        return self.anchor(log, old, new)

    def naive_per_entry(self, at: int) -> float:
        """Mean gas of one transaction per entry (each an anchor of size + 1 with its proof)
        over ``NAIVE_SAMPLE`` consecutive entries near ``at``."""
        log = self.new_log()
        self.anchor(log, 0, at)
        gases = [self.anchor(log, at + i, at + i + 1)[0] for i in range(NAIVE_SAMPLE)]
        return sum(gases) / len(gases)


def measure(name: str, chain: Chain, tree: PeriodicTree) -> dict[str, object]:
    bench = Bench(chain, tree)
    per_size = []
    for size in TREE_SIZES:
        old = size - min(STEP, size // 10)
        gas, hashes = bench.step(old, size)
        worst_old = worst_old_size(size)
        worst_gas, worst_hashes = bench.step(worst_old, size)
        aligned_old = worst_aligned_old_size(size)
        aligned: tuple[int, int] | None = None
        if aligned_old is not None:
            aligned = bench.step(aligned_old, size)
        per_size.append(
            (size, old, gas, hashes, worst_old, worst_gas, worst_hashes, aligned_old, aligned)
        )
    naive = bench.naive_per_entry(PER_ENTRY_AT)
    per_entry = []
    for entries in PER_ANCHOR:
        gas, hashes = bench.step(PER_ENTRY_AT - entries, PER_ENTRY_AT)
        per_entry.append((entries, gas, hashes, gas / entries, naive))
    return {"name": name, "per_size": per_size, "per_entry": per_entry, "naive": naive}


@contextmanager
def anvil() -> Iterator[str | None]:
    if not ANVIL.is_file():
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--hardfork", "prague"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                connect_rpc(url, ANVIL_KEY).w3.eth.chain_id  # noqa: B018
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("anvil did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def render(results: list[dict[str, object]]) -> None:
    console = Console(width=180)
    table = Table(title="TraceAnchor gas (receipt gasUsed of mined transactions)")
    table.add_column("chain")
    table.add_column("measure")
    table.add_column("case")
    table.add_column("proof hashes", justify="right")
    table.add_column("gas", justify="right")
    table.add_column("gas / entry", justify="right")
    table.add_column("naive / ours", justify="right")
    table.add_column("target")
    for r in results:
        name = str(r["name"])
        for row in r["per_size"]:  # type: ignore[attr-defined]
            size, old, gas, hashes, w_old, w_gas, w_hashes, a_old, aligned = row
            table.add_row(name, "per anchor", f"{size:,} after {old:,}", str(hashes), f"{gas:,}")
            note = ""
            if size == 1_000_000 and w_gas > TARGET_1M:
                note = "over: only after an exact (time-triggered or forced) anchor"
            table.add_row(
                name,
                "worst: any previous size",
                f"{size:,} after {w_old:,}",
                str(w_hashes),
                f"{w_gas:,}",
                "",
                "",
                note,
            )
            if aligned is None:
                case = f"{size:,}: no multiple of 2^{ANCHOR_ALIGN_BITS} below, anchors are exact"
                table.add_row(name, "worst: our policy", case, "", "see above")
                continue
            a_gas, a_hashes = aligned
            target = ""
            if size == 1_000_000:
                target = f"<= {TARGET_1M:,}: {'met' if a_gas <= TARGET_1M else 'MISSED'}"
            table.add_row(
                name,
                "worst: our policy",
                f"{size:,} after {a_old:,} (a multiple of 2^{ANCHOR_ALIGN_BITS})",
                str(a_hashes),
                f"{a_gas:,}",
                "",
                "",
                target,
            )
        for entries, gas, hashes, per, naive in r["per_entry"]:  # type: ignore[attr-defined]
            target = ""
            if entries == 10_000:
                ok = per <= TARGET_PER_ENTRY_10K
                target = f"<= {TARGET_PER_ENTRY_10K}: {'met' if ok else 'MISSED'}"
            table.add_row(
                name,
                "per entry",
                f"{entries:,} entries/anchor at {PER_ENTRY_AT:,}",
                str(hashes),
                f"{gas:,}",
                f"{per:.2f}",
                f"{naive / per:,.0f}x",
                target,
            )
        table.add_row(
            name,
            "naive",
            f"1 tx per entry at {PER_ENTRY_AT:,} (mean of {NAIVE_SAMPLE}, extrapolated)",
            "",
            f"{r['naive']:,.0f}",
            f"{r['naive']:,.0f}",
            "1x",
            "",
        )
    console.print(table)
    for r in results:
        for size, *_, a_old, aligned in r["per_size"]:  # type: ignore[attr-defined]
            if size == 1_000_000 and aligned is not None:
                a_gas, a_hashes = aligned
                verdict = "met" if a_gas <= TARGET_1M else "MISSED"
                console.print(
                    f"{r['name']}: target <= {TARGET_1M:,} gas per anchor with its consistency "
                    f"proof at 1M entries, under our anchoring policy (every anchored size a "
                    f"multiple of 2^{ANCHOR_ALIGN_BITS} unless the time trigger finds none): "
                    f"{verdict}, worst case {a_gas:,} gas ({a_hashes} hashes, after {a_old:,})"
                )
    console.print(
        "naive: gas of one anchoring transaction per entry (anchor size+1 with its consistency "
        f"proof), measured on {NAIVE_SAMPLE} consecutive entries and taken as the per-entry cost "
        "of anchoring every entry; the ratio is naive gas per entry / ours."
    )


def main() -> None:
    started = time.monotonic()
    tree = PeriodicTree(PERIOD_LEVEL, b"bench-%d")
    results = []
    with tempfile.TemporaryDirectory() as tmp, connect_embedded(Path(tmp) / "chain.sqlite") as c:
        results.append(measure("embedded (py-evm)", c, tree))
    with anvil() as url:
        if url is not None:
            results.append(measure("anvil", connect_rpc(url, ANVIL_KEY), tree))
        else:
            print(f"anvil not found at {ANVIL}: embedded chain only", file=sys.stderr)
    render(results)
    print(f"({time.monotonic() - started:.0f} s, pid {os.getpid()})")


if __name__ == "__main__":
    main()

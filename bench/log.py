"""Benchmark the persistent Merkle log against pymerkle 7 and bare Ed25519 verification.

Run: ``.venv/bin/python bench/log.py [--sizes 100000,1000000] [--quick]``. Prints one table,
every number measured in this run on this machine.

- append: entries/s into a fresh SQLite file from the raw leaf data bytes (plus one shared
  ``(type, author, key, issued_at)`` tuple for the indexed columns) via
  ``MerkleLog.append_leaves``, each entry its own group, committed in bulk transactions
  (``Settings.bulk_batch_max_entries``), leaf hashing and tree tiles included; vs pymerkle
  ``SqliteTree.append_entries`` (one bulk transaction) and ``InmemoryTree.append_entries``
  on the same list of leaf data bytes: like for like, both start from raw bytes.
- proof: inclusion proofs/s at random indices in the full tree, read from the database
  (one query per proof; only full tiles above level 0 are cached); vs pymerkle's
  ``prove_inclusion`` on both trees.
- ingest: signed JSON lines/s through parse + key check + Ed25519 verify + append, with a
  process per core; vs bare ``cryptography`` Ed25519 verification on every core.
- sequenced ingest (PostgreSQL, ``--no-sequencer`` skips it): the same signed lines through
  4 worker processes, each verifying its own 256-line requests, and the one elected
  sequencer (``bench/sequencer.py``'s measurement); vs bare verification on every core
  measured right after it, with the p50/p99 acknowledgement of a request.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pymerkle import InmemoryTree, SqliteTree

from foodtrace.config import Settings
from foodtrace.store.authors import register_key
from foodtrace.store.ingest import Ingestor
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

AT = "2025-03-01T08:00:00.000000Z"
KEY = "0123456789abcdef"
SIG = base64.b64encode(bytes(64)).decode()


def leaf_data(i: int) -> bytes:
    """~300 bytes shaped like a signed cold-chain event (the signature is not checked here)."""
    return (
        f'{{"author":"coldchain-017","body":{{"gtin":"06901234567892","lot":"LOT{i:08d}",'
        f'"temp_c":-18,"where":"上海冷库3号"}},"issued_at":"{AT}","key":"{KEY}","sig":"{SIG}",'
        '"type":"event","v":1}'
    ).encode()


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def _verify_part(args: tuple[bytes, list[tuple[bytes, bytes]]]) -> int:
    pub = Ed25519PublicKey.from_public_bytes(args[0])
    for sig, msg in args[1]:
        pub.verify(sig, msg)
    return len(args[1])


def bench_size(n: int, proofs: int, signed: int, tmp: Path, pool: ProcessPoolExecutor) -> dict:
    rng = random.Random(n)
    datas = [leaf_data(i) for i in range(n)]
    out: dict[str, float] = {}

    settings = Settings(data_dir=tmp / f"var{n}")
    log = MerkleLog(f"sqlite:///{tmp / f'ours{n}.db'}", settings=settings)
    t = time.perf_counter()
    log.append_leaves(datas, ("event", "coldchain-017", KEY, AT))
    out["append_ours"] = rate(n, time.perf_counter() - t)

    pm = SqliteTree(str(tmp / f"pymerkle{n}.db"))
    t = time.perf_counter()
    pm.append_entries(datas)
    out["append_pm_sqlite"] = rate(n, time.perf_counter() - t)
    mem = InmemoryTree()
    t = time.perf_counter()
    mem.append_entries(datas)
    out["append_pm_mem"] = rate(n, time.perf_counter() - t)

    indices = [rng.randrange(n) for _ in range(proofs)]
    log.inclusion_proof(0, n)
    t = time.perf_counter()
    for i in indices:
        log.inclusion_proof(i, n)
    out["proof_ours"] = rate(proofs, time.perf_counter() - t)
    pm_count = max(200, proofs // 10)
    t = time.perf_counter()
    for i in indices[:pm_count]:
        pm.prove_inclusion(i + 1, n)
    out["proof_pm_sqlite"] = rate(pm_count, time.perf_counter() - t)
    t = time.perf_counter()
    for i in indices:
        mem.prove_inclusion(i + 1, n)
    out["proof_pm_mem"] = rate(proofs, time.perf_counter() - t)
    pm.close()
    del mem

    # Signed ingest on top of the n-leaf log, vs bare verification on every core.
    key = keys.generate()
    register_key(log.engine, "coldchain-017", key.public_key())
    entries = [
        entry_mod.sign(key, type="event", author="coldchain-017", body={"lot": f"L{i}", "t": -18})
        for i in range(signed)
    ]
    lines = [e.leaf_data() for e in entries]
    work = [(base64.b64decode(e.sig), e.signed_bytes()) for e in entries]
    cores = os.cpu_count() or 1
    raw = keys.public_bytes(key)
    list(pool.map(_verify_part, [(raw, work[:100])] * cores))  # warm the workers
    t = time.perf_counter()
    parts = [(raw, work[c::cores]) for c in range(cores)]
    assert sum(pool.map(_verify_part, parts)) == signed
    out["verify_bare"] = rate(signed, time.perf_counter() - t)
    with Ingestor(log) as ingestor:
        ingestor.ingest(lines[:200])  # start the worker pool outside the timing
        t = time.perf_counter()
        report = ingestor.ingest(lines[200:])
        out["ingest_ours"] = rate(signed - 200, time.perf_counter() - t)
    assert not report.rejected and len(report.accepted) == signed - 200
    log.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer proofs")
    parser.add_argument("--no-sequencer", action="store_true", help="skip the PostgreSQL run")
    args = parser.parse_args()
    sizes = [20_000, 100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    proofs = 2_000 if args.quick else 10_000
    signed = 6_000 if args.quick else 30_000
    rows: list[tuple[int, dict]] = []
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(os.cpu_count()) as pool:
        for n in sizes:
            print(f"measuring {n:,} leaves...", file=sys.stderr, flush=True)
            rows.append((n, bench_size(n, proofs, signed, Path(tmp), pool)))
    head = f"{'metric':<44}" + "".join(f"{f'{n:,} leaves':>18}" for n, _ in rows)
    print(head)
    print("-" * len(head))

    def line(label: str, f: str) -> None:
        print(f"{label:<44}" + "".join(f"{f.format(**r):>18}" for _, r in rows))

    line("append ours, SQLite, raw bytes (entries/s)", "{append_ours:,.0f}")
    line("append pymerkle SqliteTree, raw bytes (/s)", "{append_pm_sqlite:,.0f}")
    line("append pymerkle InmemoryTree (entries/s)", "{append_pm_mem:,.0f}")
    for _, r in rows:
        r["r1"] = r["append_ours"] / r["append_pm_sqlite"]
        r["r2"] = r["proof_ours"] / r["proof_pm_sqlite"]
        r["r3"] = r["proof_ours"] / r["proof_pm_mem"]
        r["r4"] = r["ingest_ours"] / r["verify_bare"]
    line("  ratio ours / pymerkle SQLite (>= 1x)", "{r1:.2f}x")
    line("inclusion proof ours, from DB (proofs/s)", "{proof_ours:,.0f}")
    line("inclusion proof pymerkle SQLite (proofs/s)", "{proof_pm_sqlite:,.0f}")
    line("inclusion proof pymerkle in-memory (/s)", "{proof_pm_mem:,.0f}")
    line("  ratio ours / pymerkle SQLite (>= 10x)", "{r2:.1f}x")
    line("  ratio ours / pymerkle in-memory (>= 1x)", "{r3:.2f}x")
    line(f"signed ingest ours, {os.cpu_count()} cores (entries/s)", "{ingest_ours:,.0f}")
    line(f"bare Ed25519 verify, {os.cpu_count()} cores (/s)", "{verify_bare:,.0f}")
    line("  ratio ingest / bare verify (>= 70%)", "{r4:.0%}")
    if not args.no_sequencer:
        sequenced()
    print(f"(load average {os.getloadavg()[0]:.1f})")


def sequenced() -> None:
    """Signed ingest through 4 workers and the sequencer, beside bare verification."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sequencer import measure_ingest

    print("measuring signed ingest through 4 workers and the sequencer...", file=sys.stderr)
    run, verify = measure_ingest(workers=4, requests=40, lines=256)
    rate_ = run.entries / run.seconds
    print(f"{'signed ingest, 4 workers + sequencer, PostgreSQL (entries/s)':<62}{rate_:>12,.0f}")
    print(f"{'bare Ed25519 verify, measured right after (/s)':<62}{verify:>12,.0f}")
    print(f"{'  ratio sequenced ingest / bare verify (>= 70%)':<62}{rate_ / verify:>12.0%}")
    print(f"{'  acknowledgement of a 256-line request p50 / p99 (ms)':<62}", end="")
    print(f"{run.p50_ms:>6,.0f} / {run.p99_ms:,.0f}  (p99 target <= 250)")


if __name__ == "__main__":
    main()

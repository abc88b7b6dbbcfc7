"""Signed ingest through several worker processes and the one elected sequencer (PostgreSQL),
beside bare Ed25519 verification on every core, measured in the same run.

Run: ``.venv/bin/python bench/sequencer.py [--workers 4] [--requests 40] [--lines 256]
[--groups 25] [--group-size 8]``. A separate process runs the sequencer; each of the worker
processes takes requests one after the other and answers each only once it is integrated:

- *signed ingest*: a request is ``--lines`` signed JSON lines; the worker runs
  :class:`~foodtrace.store.ingest.Ingestor` (parse, key check, Ed25519 verification in the
  worker itself) and queues the verified leaves; the sequencer appends every pending
  request in one transaction. Its entries/s are compared with bare ``cryptography`` Ed25519
  verifications/s on every core (a process per core), measured right after.
- *registered groups*: the write path minus HTTP (:func:`foodtrace.record.service.submit`:
  roles, body checks, verification, queueing) for groups of ``--group-size``
  ``party.register`` entries, which the sequencer projects (parties, keys) one by one.

Prints entries/s and the p50/p99 acknowledgement latency (request received to answered).
Needs the local PostgreSQL server (127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "tests"),
    str(ROOT / "tests/record"),
    str(ROOT / "tests/sequencer"),
]


def _verify_rate(seconds: float = 2.0) -> float:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    msg = b"x" * 300
    sig, pub = key.sign(msg), key.public_key()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(200):
            pub.verify(sig, msg)
        n += 200
    return n / (time.perf_counter() - t0)


def _ingest_worker(
    url: str, tmp: str, w: int, requests: int, lines: int, start: object, out: object
) -> None:
    from seqharness import settings_for

    from foodtrace.sequencer.client import SequencedLog
    from foodtrace.store.ingest import Ingestor
    from foodtrace.trace import entry as entry_mod
    from foodtrace.trace import keys

    key = keys.read_private(Path(tmp) / "coldchain.key")
    batches = [
        [
            entry_mod.sign(
                key,
                type="event",
                author="coldchain-017",
                body={"lot": f"LOT{w:02d}{r:04d}{i:04d}", "temp_c": -18, "where": "上海冷库3号"},
            ).leaf_data()
            for i in range(lines)
        ]
        for r in range(requests)
    ]
    log = SequencedLog(url, settings=settings_for(url, Path(tmp), sequencer="worker"))
    latencies = []
    with Ingestor(log, workers=0) as ingestor:
        ingestor.ingest([])  # connections open, key table read
        out.put("ready")  # type: ignore[attr-defined]
        start.wait()  # type: ignore[attr-defined]
        for batch in batches:
            t0 = time.perf_counter()
            report = ingestor.ingest(batch)
            latencies.append(time.perf_counter() - t0)
            assert len(report.accepted) == lines and not report.rejected
    out.put(latencies)  # type: ignore[attr-defined]
    log.close()


def _group_worker(
    url: str, tmp: str, w: int, groups: int, size: int, start: object, out: object
) -> None:
    from seqharness import Regulator, settings_for

    from foodtrace.auth.models import Principal, Role
    from foodtrace.record.service import submit
    from foodtrace.sequencer.client import SequencedLog
    from foodtrace.store.db import make_engine, session_factory
    from foodtrace.trace import keys

    settings = settings_for(url, Path(tmp), sequencer="worker")
    reg = Regulator("gov-sh", keys.read_private(Path(tmp) / "regulator.key"), "")
    batches = [[reg.party(w * 100_000 + g * size + i) for i in range(size)] for g in range(groups)]
    log = SequencedLog(url, settings=settings)
    sessions = session_factory(make_engine(url))
    principal = Principal("gov-sh", Role.REGULATOR, 0)
    out.put("ready")  # type: ignore[attr-defined]
    start.wait()  # type: ignore[attr-defined]
    latencies = []
    for batch in batches:
        t0 = time.perf_counter()
        submit(log, sessions, principal, batch)
        latencies.append(time.perf_counter() - t0)
    out.put(latencies)  # type: ignore[attr-defined]
    log.close()


def _sequencer(url: str, tmp: str, stop: object) -> None:
    from seqharness import settings_for

    from foodtrace.sequencer.sequencer import Sequencer

    seq = Sequencer(url, settings_for(url, Path(tmp)))
    seq.start()
    stop.wait()  # type: ignore[attr-defined]
    seq.close()


class Run(NamedTuple):
    entries: int
    seconds: float
    p50_ms: float
    p99_ms: float


def _run(url: str, tmp: str, target: Any, workers: int, per_worker: int, size: int) -> Run:
    """Start the sequencer and ``workers`` processes running ``target``; time them from
    the moment every worker is ready (requests signed, connections open)."""
    ctx = mp.get_context("spawn")
    start, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    seq = ctx.Process(target=_sequencer, args=(url, tmp, stop))
    seq.start()
    procs = [
        ctx.Process(target=target, args=(url, tmp, w, per_worker, size, start, out))
        for w in range(workers)
    ]
    for pr in procs:
        pr.start()
    for _ in procs:  # every worker signed its requests and connected
        assert out.get() == "ready"
    time.sleep(1)  # the sequencer is elected
    t0 = time.perf_counter()
    start.set()
    latencies = sorted(x for _ in procs for x in out.get())
    elapsed = time.perf_counter() - t0
    for pr in procs:
        pr.join()
    stop.set()
    seq.join()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Run(
        workers * per_worker * size, elapsed, latencies[len(latencies) // 2] * 1e3, p99 * 1e3
    )


def measure_ingest(workers: int = 4, requests: int = 40, lines: int = 256) -> tuple[Run, float]:
    """Signed ingest through ``workers`` processes and the sequencer on a fresh PostgreSQL
    database, and bare Ed25519 verifications/s on every core measured right after."""
    from databases import database

    from foodtrace.store.authors import register_key
    from foodtrace.store.db import make_engine
    from foodtrace.trace import keys

    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        from seqharness import bootstrap

        bootstrap(url, Path(tmp))
        key = keys.generate()
        keys.write_private(Path(tmp) / "coldchain.key", key)
        engine = make_engine(url)
        register_key(engine, "coldchain-017", key.public_key())
        engine.dispose()
        run = _run(url, tmp, _ingest_worker, workers, requests, lines)
    return run, _bare_verify()


def _bare_verify() -> float:
    cores = os.cpu_count() or 2
    with mp.get_context("spawn").Pool(cores) as pool:
        return sum(pool.map(_verify_rate, [2.0] * cores))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--requests", type=int, default=40, help="ingest requests per worker")
    p.add_argument("--lines", type=int, default=256, help="signed lines per ingest request")
    p.add_argument("--groups", type=int, default=25, help="registered groups per worker")
    p.add_argument("--group-size", type=int, default=8)
    args = p.parse_args()
    from databases import database
    from seqharness import bootstrap

    ingest, verify = measure_ingest(args.workers, args.requests, args.lines)
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        bootstrap(url, Path(tmp))
        groups = _run(url, tmp, _group_worker, args.workers, args.groups, args.group_size)
    w = args.workers
    print(f"{'measure':<58}{'entries/s':>11}{'p50 ms':>9}{'p99 ms':>9}")
    for label, r in (
        (f"signed ingest, {w} workers + sequencer ({args.lines}-line requests)", ingest),
        (f"registered groups, {w} workers + sequencer ({args.group_size} party.register)", groups),
    ):
        print(f"{label:<58}{r.entries / r.seconds:>11,.0f}{r.p50_ms:>9,.0f}{r.p99_ms:>9,.0f}")
    print(f"{f'bare Ed25519 verify, {os.cpu_count()} cores (reference)':<58}{verify:>11,.0f}")
    print(f"signed ingest / bare verify: {ingest.entries / ingest.seconds / verify:.0%} (>= 70%)")
    print(f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

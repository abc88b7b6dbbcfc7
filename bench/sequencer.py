"""Signed ingest through several worker processes and the one elected sequencer (PostgreSQL),
beside bare Ed25519 verification on every core, measured in the same run.

Run: ``.venv/bin/python bench/sequencer.py [--workers 4] [--groups 200] [--group-size 8]``.
Each worker process runs the real write path minus HTTP (:func:`foodtrace.record.service.
submit`: key lookup, role and body checks, Ed25519 verification, queueing, waiting for the
sequencer's answer) for ``party.register`` groups signed by a bootstrapped regulator; a
separate process runs the sequencer. Prints entries/s, the p50/p99 acknowledgement latency
(submit to answer, per group) and the reference: ``cryptography`` Ed25519 verifications/s
with a process per core. Needs the local PostgreSQL server (127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

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


def _worker(url: str, tmp: str, w: int, groups: int, size: int, start: object, out: object) -> None:
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--groups", type=int, default=100, help="groups per worker")
    p.add_argument("--group-size", type=int, default=8)
    args = p.parse_args()
    from databases import database
    from seqharness import bootstrap

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        bootstrap(url, Path(tmp))
        start, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
        seq = ctx.Process(target=_sequencer, args=(url, tmp, stop))
        seq.start()
        procs = [
            ctx.Process(
                target=_worker, args=(url, tmp, w, args.groups, args.group_size, start, out)
            )
            for w in range(args.workers)
        ]
        for pr in procs:
            pr.start()
        time.sleep(5)  # workers sign their groups and connect; the sequencer is elected
        t0 = time.perf_counter()
        start.set()
        latencies = [x for _ in procs for x in out.get()]
        elapsed = time.perf_counter() - t0
        for pr in procs:
            pr.join()
        stop.set()
        seq.join()
    entries = args.workers * args.groups * args.group_size
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    with ctx.Pool(os.cpu_count() or 2) as pool:
        verify = sum(pool.map(_verify_rate, [2.0] * (os.cpu_count() or 2)))
    ingest = entries / elapsed
    print(f"{'measure':<52}{'ours':>12}{'reference':>14}")
    print(
        f"{f'signed ingest, {args.workers} workers + sequencer (entries/s)':<52}"
        f"{ingest:>12,.0f}{verify:>14,.0f}  ({ingest / verify:.1%} of bare Ed25519 verify)"
    )
    print(f"{'acknowledgement latency per group p50 / p99 (ms)':<52}{p50:>8,.0f} / {p99:,.0f}")
    print(
        f"({entries} entries in groups of {args.group_size}; load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

"""Appends forever to the log at argv[1]; prints each acknowledged group after its commit.

Run by test_crash.py, which SIGKILLs it at random points. Line format:
``ack START END RUN FIRST_SEQ`` (entry ``i`` of the group has data ``_data(RUN, FIRST_SEQ+i)``).
"""

from __future__ import annotations

import json
import random
import sys
from concurrent.futures import Future
from pathlib import Path

from foodtrace.config import Settings
from foodtrace.store.leaves import Record
from foodtrace.store.log import MerkleLog


def data(run: int, seq: int) -> bytes:
    obj = {"author": "crash", "issued_at": "2025-01-01T00:00:00Z", "key": "0" * 16}
    return json.dumps({**obj, "type": "event", "run": run, "seq": seq}).encode()


def record(run: int, seq: int) -> Record:
    return Record.from_data(data(run, seq), "event", "crash", "0" * 16, "2025-01-01T00:00:00Z")


def main() -> None:
    url, run, tmp = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    rng = random.Random(run)
    settings = Settings(data_dir=tmp, batch_max_entries=64, batch_max_wait_s=0.001)
    log = MerkleLog(url, settings=settings, migrate=False)
    print("ready", flush=True)
    seq = 0
    while True:
        pending: list[tuple[int, Future[range]]] = []
        for _ in range(rng.randint(1, 8)):
            n = rng.choice([1, 1, 3, 40, 300])
            pending.append((seq, log.submit([record(run, seq + i) for i in range(n)])))
            seq += n
        if rng.random() < 0.2:
            big = [[record(run, seq + i)] for i in range(2000)]
            done = log.append_many(big, chunk_entries=700)
            for i, r in enumerate(done):
                assert isinstance(r, range)
                print(f"ack {r.start} {r.stop} {run} {seq + i}", flush=True)
            seq += len(big)
        for first, f in pending:
            r = f.result()
            print(f"ack {r.start} {r.stop} {run} {first}", flush=True)


if __name__ == "__main__":
    main()

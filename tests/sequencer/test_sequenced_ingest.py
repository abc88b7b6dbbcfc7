"""Bulk ingest through the sequencer: workers verify, the sequencer appends in one batch.

The worker checks and verifies the signed lines itself (the costly part, parallel across
worker processes) and queues only the accepted leaves; the sequencer appends them beside
registered groups in one transaction and wakes the worker by ``NOTIFY``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from seqharness import bootstrap, settings_for, sql

from foodtrace.sequencer.client import SequencedLog
from foodtrace.sequencer.sequencer import Sequencer
from foodtrace.store.authors import register_key
from foodtrace.store.ingest import Ingestor
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys


def _lines(n: int, start: int = 0) -> tuple[list[bytes], keys.Ed25519PrivateKey]:
    key = keys.generate()
    return [
        entry_mod.sign(key, type="event", author="cold-1", body={"lot": f"L{i}"}).leaf_data()
        for i in range(start, start + n)
    ], key


def test_verified_lines_are_integrated_with_registered_groups(pg_url: str, tmp_path: Path) -> None:
    reg = bootstrap(pg_url, tmp_path)
    settings = settings_for(pg_url, tmp_path, sequencer="worker", sequencer_wait_s=20)
    lines, key = _lines(300)
    lines[7] = entry_mod.loads(lines[6]).leaf_data().replace(b'"L6"', b'"L7"')  # sig of L6
    seq = Sequencer(pg_url, settings)
    workers = [SequencedLog(pg_url, settings=settings) for _ in range(2)]
    register_key(workers[0].engine, "cold-1", key.public_key())
    seq.start()
    try:
        size0 = workers[0].size()
        reports = []
        parties: list[range] = []
        threads = [
            threading.Thread(target=lambda: reports.append(Ingestor(workers[0], 0).ingest(lines))),
            threading.Thread(
                target=lambda: parties.extend(
                    workers[1].append_registered([reg.party(i)]) for i in range(5)
                )
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        (report,) = reports
        assert [r.line for r in report.rejected] == [8]  # line 8 carries another's signature
        assert "does not verify" in report.rejected[0].reason
        assert len(report.accepted) == 299 and len(parties) == 5
        indices = [i for _, i in report.accepted] + [i for r in parties for i in r]
        assert sorted(indices) == list(range(size0, size0 + 304))  # each index once
        for number, index in report.accepted[:20]:
            assert workers[1].entry(index).leaf_data() == lines[number - 1]
        assert sql(pg_url, "SELECT count(*) FROM sequencer_queue") == [(0,)]
        assert workers[0].audit().ok
    finally:
        seq.close()
        for w in workers:
            w.close()

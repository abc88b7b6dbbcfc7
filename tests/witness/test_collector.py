"""The log collects cosignatures by itself: no ``foodtrace witness collect``.

Two witnesses run as their own processes (``python -m foodtrace.witness serve``); beside them
a dead one (nothing listens on its port) and a hung one (a socket that accepts connections
and never answers). The server's background collector must get both live cosignatures on
every new checkpoint, serve them in the checkpoint note, and neither of the broken witnesses
may hold back the others or the log's writes. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_witness_servers import grow, make_log
from witnessrun import RunningWitness, free_port, run_witness

from foodtrace.api.app import create_app
from foodtrace.store.log import MerkleLog
from foodtrace.trace.cosignature import CosignatureError, cosigner_vkey, require_cosignatures
from foodtrace.trace.keys import generate
from foodtrace.witness.collect import Endpoint, cosigned_note, last_cosigned
from foodtrace.witness.collector import WitnessCollector, backoff, collect_pending

NAMES = ["witness.consumers.example/w1", "witness.regulator.example/w2"]
WAIT_S = 30.0


def wait_for(what: str, done: Callable[[], bool]) -> float:
    """Seconds until ``done()``; fails the test after :data:`WAIT_S`."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > WAIT_S:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def log(db_url: str, tmp_path: Path) -> Iterator[MerkleLog]:
    with make_log(db_url, tmp_path / "log") as log:
        yield log


@pytest.fixture
def pair(log: MerkleLog, tmp_path: Path) -> Iterator[list[RunningWitness]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(run_witness(tmp_path / f"w{n}", name, [log.verifier_key()]))
            for n, name in enumerate(NAMES, start=1)
        ]


@pytest.fixture
def hung() -> Iterator[str]:
    """A URL whose server accepts TCP connections (the kernel's backlog) but never replies."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def broken(hung_url: str) -> list[Endpoint]:
    dead = Endpoint(
        cosigner_vkey("witness.dead.example/w", generate()), f"http://127.0.0.1:{free_port()}"
    )
    hang = Endpoint(cosigner_vkey("witness.hung.example/w", generate()), hung_url)
    return [dead, hang]


def cosigned_by_both(log: MerkleLog, pair: list[RunningWitness], size: int) -> Callable[[], bool]:
    return lambda: all(last_cosigned(log.engine, w.name, size) == size for w in pair)


def test_each_new_checkpoint_gets_both_cosignatures_while_two_witnesses_are_broken(
    log: MerkleLog, pair: list[RunningWitness], hung: str
) -> None:
    eps = [*broken(hung), *(Endpoint(w.vkey, w.url) for w in pair)]
    collector = WitnessCollector(log, eps, poll_s=0.05, timeout_s=5.0)
    collector.start()
    try:
        for size in (4, 9, 15):
            note = grow(log, "a", size)
            # Well under the hung witness's 5 s timeout: it delays nobody but itself.
            assert wait_for(f"both cosignatures at {size}", cosigned_by_both(log, pair, size)) < 4
            served = cosigned_note(log.engine, note, [w.name for w in pair])
            got = require_cosignatures(served, [w.vkey for w in pair], 2)
            assert sorted(c.name for c in got) == sorted(NAMES)
        started = time.monotonic()
        grow(log, "a", 20)  # writes never wait for a witness
        assert time.monotonic() - started < 2.0
    finally:
        collector.close()
    assert collector.status["witness.dead.example/w"].failures >= 1
    assert collector.status["witness.dead.example/w"].last is not None
    assert collector.status["witness.dead.example/w"].last.status == "unreachable"
    for w in pair:
        last = collector.status[w.name].last
        assert last is not None and last.status == "cosigned"


def test_a_backlog_is_submitted_smallest_first_with_proofs_from_the_cosigned_size(
    log: MerkleLog, pair: list[RunningWitness]
) -> None:
    import httpx

    w = pair[0]
    ep = Endpoint(w.vkey, w.url)
    sizes = [3, 7, 12]
    for size in sizes:
        grow(log, "b", size)
    with httpx.Client(timeout=5.0) as http:
        outcomes = collect_pending(log, ep, http)
        assert [(o.size, o.status) for o in outcomes] == [(s, "cosigned") for s in sizes]
        assert collect_pending(log, ep, http) == []  # nothing new: nothing sent
        grow(log, "b", 13)
        assert [(o.size, o.status) for o in collect_pending(log, ep, http)] == [(13, "cosigned")]


def test_backoff_doubles_up_to_a_minute() -> None:
    assert [backoff(n) for n in (0, 1, 2, 3, 7, 20)] == [0.0, 1.0, 2.0, 4.0, 60.0, 60.0]


def test_the_server_collects_and_serves_cosignatures_in_its_checkpoint_note(
    db_url: str, log: MerkleLog, pair: list[RunningWitness], hung: str, tmp_path: Path
) -> None:
    endpoints = [*broken(hung), *(Endpoint(w.vkey, w.url) for w in pair)]
    settings = log.settings.model_copy(
        update={
            "database_url": db_url,
            "witnesses": ",".join(f"{e.vkey}@{e.url}" for e in endpoints),
            "witness_poll_seconds": 0.05,
        }
    )
    grow(log, "c", 6)
    with TestClient(create_app(settings)) as client:
        assert client.app.state.witnesses is not None  # type: ignore[attr-defined]
        wait_for("both cosignatures at 6", cosigned_by_both(log, pair, 6))
        answer = client.get("/api/v1/log/checkpoint")
        assert answer.status_code == 200
        note = answer.json()["checkpoint"]
        assert note.startswith(f"{log.origin}\n6\n")
        got = require_cosignatures(note, [w.vkey for w in pair], 2)
        assert sorted(c.name for c in got) == sorted(NAMES)


def test_the_largest_cosigned_checkpoint_is_served_on_request(
    db_url: str, log: MerkleLog, pair: list[RunningWitness]
) -> None:
    """``?witnessed=true``: a scanner asking for cosignatures gets the largest checkpoint
    that carries them, not a newer one the witnesses have not been asked about yet."""
    settings = log.settings.model_copy(
        update={
            "database_url": db_url,
            "witnesses": ",".join(w.endpoint for w in pair),
            "witness_poll_seconds": 3600.0,  # one pass at start, then nothing in this test
        }
    )
    grow(log, "d", 5)
    with TestClient(create_app(settings)) as client:
        wait_for("both cosignatures at 5", cosigned_by_both(log, pair, 5))
        grow(log, "d", 8)  # issued after the collector's pass: not cosigned
        latest = client.get("/api/v1/log/checkpoint").json()
        witnessed = client.get("/api/v1/log/checkpoint?witnessed=true").json()
    assert latest["size"] == 8
    with pytest.raises(CosignatureError):
        require_cosignatures(latest["checkpoint"], [w.vkey for w in pair], 1)
    assert witnessed["size"] == 5
    assert len(require_cosignatures(witnessed["checkpoint"], [w.vkey for w in pair], 2)) == 2

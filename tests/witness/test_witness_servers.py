"""Two witnesses as independent processes, a log that asks them to cosign, and a log that
forks: two different trees of the same origin, each shown to one witness first.

The witnesses run ``foodtrace witness serve`` on 127.0.0.1; the logs are real
:class:`~foodtrace.store.log.MerkleLog` s on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from databases import database
from witnessrun import RunningWitness, run_witness

from foodtrace.config import Settings
from foodtrace.store.db import migrate
from foodtrace.store.log import MerkleLog
from foodtrace.trace.checkpoint import verify_checkpoint
from foodtrace.trace.cosignature import CosignatureError, require_cosignatures
from foodtrace.trace.witnessing import AddCheckpoint
from foodtrace.witness.collect import Endpoint, collect, cosigned_note, last_cosigned

ORIGIN = "test.foodtrace/log"
META = ("event", "party-1", "key-1", "2026-12-01T00:00:00Z")


def make_log(url: str, data_dir: Path) -> MerkleLog:
    migrate(url)
    settings = Settings(data_dir=data_dir, log_origin=ORIGIN, database_url=url)
    return MerkleLog(url, settings=settings, batch_max_wait_s=0.002, migrate=False)


def grow(log: MerkleLog, label: str, to: int) -> str:
    """Append leaves up to size ``to`` and return the checkpoint note at that size."""
    have = log.size()
    log.append_leaves([f'{{"{label}":{i}}}'.encode() for i in range(have, to)], META)
    return log.issue_checkpoint().note


@pytest.fixture
def log(db_url: str, tmp_path: Path) -> Iterator[MerkleLog]:
    with make_log(db_url, tmp_path / "log-a") as log:
        yield log


@pytest.fixture
def pair(log: MerkleLog, tmp_path: Path) -> Iterator[list[RunningWitness]]:
    names = ["witness.consumers.example/w1", "witness.regulator.example/w2"]
    with ExitStack() as stack:
        yield [
            stack.enter_context(run_witness(tmp_path / f"w{n}", name, [log.verifier_key()]))
            for n, name in enumerate(names, start=1)
        ]


def endpoints(witnesses: list[RunningWitness]) -> list[Endpoint]:
    return [Endpoint(w.vkey, w.url) for w in witnesses]


def state(w: RunningWitness) -> dict[str, object]:
    data = json.loads((w.directory / "state.json").read_text())[ORIGIN]
    assert isinstance(data, dict)
    return data


def test_both_witnesses_cosign_a_log_that_only_grows(
    log: MerkleLog, pair: list[RunningWitness]
) -> None:
    eps, vkeys = endpoints(pair), [w.vkey for w in pair]
    for size in (10, 25, 26):
        note = grow(log, "a", size)
        outcomes = collect(log, eps)
        assert [(o.witness, o.size, o.status) for o in outcomes] == [
            (w.name, size, "cosigned") for w in pair
        ]
        served = cosigned_note(log.engine, note)
        assert verify_checkpoint(served, [log.verifier_key()]).size == size
        assert {c.name for c in require_cosignatures(served, vkeys, 2)} == {w.name for w in pair}
        assert all(state(w)["size"] == size for w in pair)
    # The second round proved consistency from the size each witness had cosigned.
    assert last_cosigned(log.engine, pair[0].name, 26) == 26
    # Submitting the same checkpoint again is idempotent for the witness.
    assert [o.status for o in collect(log, eps)] == ["cosigned", "cosigned"]


def test_a_witness_answers_409_with_its_size_and_the_log_catches_up(
    log: MerkleLog, pair: list[RunningWitness]
) -> None:
    w1 = pair[0]
    grow(log, "a", 12)
    assert [o.status for o in collect(log, endpoints([w1]))] == ["cosigned"]
    note = grow(log, "a", 20)
    stale = AddCheckpoint(0, (), note).encode()
    answer = httpx.post(f"{w1.url}/add-checkpoint", content=stale)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "text/x.tlog.size"
    assert answer.text == "12\n"
    # The log lost its table of cosignatures: the 409 tells it where the witness is.
    with log.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM witness_cosignatures")
    assert [o.status for o in collect(log, endpoints([w1]))] == ["cosigned"]
    assert state(w1)["size"] == 20


def test_unknown_origins_and_strangers_keys_are_refused(
    log: MerkleLog, pair: list[RunningWitness], tmp_path: Path
) -> None:
    other_settings = Settings(data_dir=tmp_path / "stranger", log_origin=ORIGIN)
    with MerkleLog(f"sqlite:///{tmp_path / 'stranger.db'}", settings=other_settings) as other:
        note = grow(other, "x", 5)  # same origin, another key
        answer = httpx.post(
            f"{pair[0].url}/add-checkpoint", content=AddCheckpoint(0, (), note).encode()
        )
        assert answer.status_code == 403
    renamed = note.replace(ORIGIN, "other.example/log", 1)
    answer = httpx.post(
        f"{pair[0].url}/add-checkpoint", content=AddCheckpoint(0, (), renamed).encode()
    )
    assert answer.status_code == 404
    assert not (pair[0].directory / "state.json").exists(), "a refusal wrote state"


def test_a_forked_log_cannot_gather_both_witnesses(
    db_url: str, log: MerkleLog, pair: list[RunningWitness], tmp_path: Path
) -> None:
    """The operator keeps two trees of one origin, signed with one key, and shows each to
    a different witness first. Each witness then refuses the other tree, so a reader that
    requires both cosignatures accepts neither branch."""
    w1, w2 = pair
    kind = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    (tmp_path / "log-b").mkdir()
    shutil.copy(log.settings.resolved_log_key_file, tmp_path / "log-b" / "log.key")
    with database(kind, tmp_path / "log-b") as url_b, make_log(url_b, tmp_path / "log-b") as fork:
        assert fork.verifier_key() == log.verifier_key()
        grow(log, "a", 10)
        grow(fork, "b", 10)
        assert log.root() != fork.root()
        assert collect(log, endpoints([w1]))[0].status == "cosigned"
        assert collect(fork, endpoints([w2]))[0].status == "cosigned"

        note_a, note_b = grow(log, "a", 20), grow(fork, "b", 20)
        by_a = {o.witness: o for o in collect(log, endpoints(pair))}
        by_b = {o.witness: o for o in collect(fork, endpoints(pair))}
        assert (by_a[w1.name].status, by_a[w2.name].status) == ("cosigned", "refused")
        assert (by_b[w1.name].status, by_b[w2.name].status) == ("refused", "cosigned")
        # w2 had seen the fork at size 10: the real log's proof from 10 does not verify;
        # w1 had seen the real log at 20: the fork's size 20 has another root.
        assert by_a[w2.name].detail.startswith("422")
        assert "409" in by_b[w1.name].detail

        vkeys = [w.vkey for w in pair]
        for branch, note in ((log, note_a), (fork, note_b)):
            served = cosigned_note(branch.engine, note)
            assert len(require_cosignatures(served, vkeys, 1)) == 1
            with pytest.raises(CosignatureError, match="1 of the 2 required"):
                require_cosignatures(served, vkeys, 2)
        # Each witness still holds the branch it saw first, untouched by the refusals.
        assert (state(w1)["size"], state(w2)["size"]) == (20, 20)
        assert state(w1)["root"] != state(w2)["root"]


def test_the_collect_command_and_the_checkpoint_endpoint_serve_the_cosignatures(
    db_url: str, log: MerkleLog, pair: list[RunningWitness], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from foodtrace.api.app import create_app
    from foodtrace.cli import app as cli_app

    note = grow(log, "a", 7)
    configured = ",".join(w.endpoint for w in pair)
    for name, value in {
        "DATA_DIR": str(log.settings.data_dir),
        "DATABASE_URL": db_url,
        "LOG_ORIGIN": ORIGIN,
        "WITNESSES": configured,
    }.items():
        monkeypatch.setenv(f"FOODTRACE_{name}", value)
    done = CliRunner().invoke(cli_app, ["witness", "collect"])
    assert done.exit_code == 0, done.output
    assert [line.split("\t")[2] for line in done.output.splitlines()] == ["cosigned"] * 2

    settings = log.settings.model_copy(update={"database_url": db_url, "witnesses": configured})
    with TestClient(create_app(settings)) as client:
        served = client.get("/api/v1/log/checkpoint").json()
    assert served["size"] == 7
    assert served["checkpoint"].startswith(note.split("\n\n")[0])
    assert len(require_cosignatures(served["checkpoint"], [w.vkey for w in pair], 2)) == 2
    # A witness that does not answer makes the command fail, and says which.
    monkeypatch.setenv("FOODTRACE_WITNESSES", f"{pair[0].vkey}@http://127.0.0.1:9")
    done = CliRunner().invoke(cli_app, ["witness", "collect"])
    assert done.exit_code == 1 and "unreachable" in done.output

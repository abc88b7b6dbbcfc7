"""The log's commands, end to end through the composed CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text as sql
from typer.testing import CliRunner

from foodtrace.cli import app
from foodtrace.store.db import normalize_url
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.bundle import from_text
from foodtrace.trace.checkpoint import verify_checkpoint


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(tmp_path / "var"))
    return CliRunner()


def test_keys_append_checkpoint_proof_audit(runner: CliRunner, db_url: str, tmp_path: Path) -> None:
    db = ["--db", db_url]
    made = runner.invoke(app, ["keys", "create", str(tmp_path / "farm.key")])
    assert made.exit_code == 0, made.output
    public = re.search(r"public key (\S+)", made.output)
    assert public is not None
    reg = runner.invoke(
        app, ["keys", "register", "--author", "farm-1", "--public-key", public[1], *db]
    )
    assert reg.exit_code == 0 and "registered key" in reg.output
    key = keys.read_private(tmp_path / "farm.key")
    lines = [
        entry_mod.sign(key, type="harvest", author="farm-1", body={"n": i}).leaf_data()
        for i in range(5)
    ]
    lines.insert(2, b'{"v":1,"oops":true}')
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    appended = runner.invoke(app, ["append", str(tmp_path / "in.jsonl"), "--workers", "0", *db])
    assert appended.exit_code == 1  # something was rejected
    assert "accepted 5, rejected 1" in appended.output
    assert "line 3: oops: is not an envelope field" in appended.output

    vkey = runner.invoke(app, ["log-key", *db]).output.strip()
    note = runner.invoke(app, ["checkpoint", *db]).output
    assert verify_checkpoint(note, [vkey]).size == 5

    text = runner.invoke(app, ["proof", "3", "--verify", *db])
    assert text.exit_code == 0, text.output
    leaf = entry_mod.loads(lines[4]).leaf_hash()  # line 5 became entry 3
    assert from_text(text.stdout).verify(leaf, [vkey]).size == 5
    as_json = runner.invoke(app, ["proof", "3", "--format", "json", "--verify", *db])
    assert json.loads(as_json.stdout)["verified"] is True
    missing = runner.invoke(app, ["proof", "9", *db])
    assert missing.exit_code == 1

    ok = runner.invoke(app, ["audit-log", *db])
    assert ok.exit_code == 0 and "audit ok: 5 entries" in ok.output
    engine = create_engine(normalize_url(db_url))
    with engine.begin() as conn:
        conn.execute(sql("UPDATE entries SET data = :d WHERE leaf_index = 1"), {"d": lines[0]})
    engine.dispose()
    bad = runner.invoke(app, ["audit-log", *db])
    assert bad.exit_code == 1 and "first affected entry 1" in bad.output

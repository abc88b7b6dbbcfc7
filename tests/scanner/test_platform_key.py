"""Records the platform signs verify like any author's, on anvil: the demo's recall puts
platform-signed recall events on downstream lot pages; the platform key's registration is a
logged entry, self-signed and countersigned by the log key, so a scan of such a lot passes.

A fork of the demo's data directory (same log key, another history) gets two more recall
events on the same lot, appended straight to its log while no server runs: one signed by a
key no entry registers (a forged platform record), and one signed by a key swapped into the
database, registered by a self-signed entry the log key did not countersign. Each fails the
scan (exit 1) at its author step, while the genuine platform records still verify.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stack
from anvil import DEV_KEYS, run_anvil
from typer.testing import CliRunner

from foodtrace import demo
from foodtrace.config import Settings
from foodtrace.ledger.anchorer import Anchorer
from foodtrace.platformkey.service import registration
from foodtrace.recall.flows import recalled_event
from foodtrace.record import registry
from foodtrace.scanner.cli import app
from foodtrace.sequencer.sequencer import registered_projector
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.codes import lot_code

pytestmark = pytest.mark.node

PLATFORM = Settings().platform_author


@dataclass(frozen=True)
class World:
    seeded: stack.Seeded
    rpc: str
    genuine: str  # the recalled downstream lot's code on the demo's server
    forked: str  # the same lot's code on the fork's server
    forged_index: int  # the recall event signed by an unregistered key
    swapped_index: int  # the one signed by the key swapped into the database


def _platform_lot(db: Path) -> tuple[str, str, str]:
    """A lot the demo's recall reaches through a platform-signed event: gtin, lot, recall id."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT data FROM entries WHERE author = ? AND type = 'epcis.event' "
            "ORDER BY leaf_index",
            (PLATFORM,),
        ).fetchall()
    assert rows, "the demo's recall signs no event with the platform key"
    event = json.loads(rows[0][0])["body"]["event"]
    _, gtin, _, lot = event["quantityList"][0]["epcClass"].rsplit("/", 3)
    return gtin, lot, event["foodtrace:recallID"]


def _stage_attacks(data_dir: Path, rpc: str, gtin: str, lot: str, recall: str) -> tuple[int, int]:
    """Append the forged and the swapped-key recall events to the log at ``data_dir`` (no
    server runs on it), projected like any write; returns their indices."""
    registry.load_types()
    forger, swapped, not_the_log = keys.generate(), keys.generate(), keys.generate()

    def event(second: int, key: Any) -> entry_mod.Entry:
        at = datetime.now(UTC).replace(microsecond=0, second=second).isoformat()
        body = recalled_event(recall, gtin, lot, None, at.replace("+00:00", "Z")).body()
        return entry_mod.sign(key, type="epcis.event", author=PLATFORM, body=body)

    settings = stack.settings_for(data_dir, 0, rpc)
    with MerkleLog(settings=settings, migrate=False) as log:
        forged = log.append([event(1, forger)], projectors=[registered_projector()])
        # a registration of the swapped key, self-signed, "countersigned" by another key
        fake = registration(PLATFORM, swapped, log.origin, not_the_log)
        log.append([fake], projectors=[registered_projector()])
        swapped_at = log.append([event(2, swapped)], projectors=[registered_projector()])
        log.issue_checkpoint()
        # anchored, so that only the keys can fail the records (the demo's copy anchors no
        # further: this history extends the one the chain holds)
        assert Anchorer(log, settings).run_once(force=True).anchored == swapped_at[0] + 1
    with sqlite3.connect(data_dir / "foodtrace.db") as conn:  # what the server now believes
        conn.execute(
            "UPDATE author_keys SET key_id = ?, public_key = ? WHERE author = ?",
            (keys.key_id(swapped), keys.public_bytes(swapped), PLATFORM),
        )
    return forged[0], swapped_at[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("platform")
    with run_anvil() as rpc:
        port_a, port_b = stack.free_port(), stack.free_port()
        seeded = stack.seed(root / "a", port_a, rpc, DEV_KEYS[0])
        gtin, lot, recall = _platform_lot(root / "a" / "foodtrace.db")
        stack.fork(root / "a", root / "b")
        forged, swapped = _stage_attacks(root / "b", rpc, gtin, lot, recall)
        authority = keys.read_private(root / "a" / demo.AUTHORITY_KEY_FILE)
        with (
            stack.serve(root / "a", port_a, rpc) as url_a,
            stack.serve(root / "b", port_b, rpc) as url_b,
        ):
            yield World(
                seeded,
                rpc,
                lot_code(url_a, gtin, lot, authority).url,
                lot_code(url_b, gtin, lot, authority).url,
                forged,
                swapped,
            )


def scan(world: World, url: str, state: Path) -> tuple[int, dict[str, Any]]:
    pins = [
        *("--authority-key", world.seeded.authority_key),
        *("--log-key", world.seeded.log_key),
        *("--rpc", world.rpc, "--contract", world.seeded.contract),
        *("--state", str(state), "--json"),
    ]
    result = CliRunner().invoke(app, ["--text", url, *pins])
    return result.exit_code, json.loads(result.stdout)


def failed_steps(data: dict[str, Any], index: int) -> list[str]:
    """The steps record ``index`` failed."""
    return [
        s["step"]
        for c in data["codes"]
        for r in c["records"]
        if r["index"] == index
        for s in r["steps"]
        if s["status"] == "failed"
    ]


def author_steps(data: dict[str, Any]) -> dict[int, tuple[str, str, str]]:
    """``index → (author, status, detail)`` of each record's author step."""
    return {
        r["index"]: (r["author"], s["status"], s["detail"])
        for c in data["codes"]
        for r in c["records"]
        for s in r["steps"]
        if s["step"] == "author"
    }


def test_a_recall_on_a_lot_page_verifies(world: World, tmp_path: Path) -> None:
    code, data = scan(world, world.genuine, tmp_path / "state.json")
    assert code == 0, [f for c in data["codes"] for f in c["failures"]]
    platform = {i: s for i, s in author_steps(data).items() if s[0] == PLATFORM}
    assert platform, "the lot page shows no platform-signed record"
    for _, status, detail in platform.values():
        assert status == "ok"
        assert "countersigned by the log key" in detail


def test_a_platform_record_signed_by_another_key_fails(world: World, tmp_path: Path) -> None:
    code, data = scan(world, world.forked, tmp_path / "state.json")
    assert code == 1
    steps = author_steps(data)
    author, status, detail = steps[world.forged_index]
    assert (author, status) == (PLATFORM, "failed")
    assert "lists no key" in detail, detail
    assert failed_steps(data, world.forged_index) == ["author"]
    genuine = [s for i, s in steps.items() if s[0] == PLATFORM and i < world.forged_index]
    assert genuine and all(s[1] == "ok" for s in genuine)


def test_a_platform_key_swapped_in_the_database_fails(world: World, tmp_path: Path) -> None:
    code, data = scan(world, world.forked, tmp_path / "state.json")
    assert code == 1
    author, status, detail = author_steps(data)[world.swapped_index]
    assert (author, status) == (PLATFORM, "failed")
    assert "countersignature" in detail and "no signature by a trusted key" in detail, detail
    assert failed_steps(data, world.swapped_index) == ["author"]

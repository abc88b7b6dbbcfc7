"""Revocations checked against the log, on anvil with a real server.

The demo's regulator revokes its original (file) key; then an entry signed with that key,
dated before the revocation, is slipped into the log after it (the store accepts it: its
date is before the revocation). The scanner refuses it because the log orders it after the
proved revocation. A server that hides the revocation (its key list says "not revoked") is
believed by ``--revocations server`` and caught by ``--revocations log``, which reads the
log's own entries. A licence is revoked the same way, before the key: a merchant page that
leaves out the logged licence revocation is caught by ``--revocations log`` too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stack
from anvil import DEV_KEYS, run_anvil
from typer.testing import CliRunner

from foodtrace import demo
from foodtrace.ledger.anchorer import Anchorer
from foodtrace.record import registry
from foodtrace.scanner.chain import ContractReader, RpcClient
from foodtrace.scanner.cli import app
from foodtrace.scanner.client import Server
from foodtrace.scanner.revocations import LogScanError, bundle_widths, from_entries, parse_bundle
from foodtrace.scanner.state import ScanState
from foodtrace.scanner.verify import Scanner, Trust
from foodtrace.sequencer.sequencer import registered_projector
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import Checkpoint, parse_verifier_key
from foodtrace.trace.codes import Merchant, parse_code
from foodtrace.trace.logkey import log_id
from foodtrace.trace.merkle import MemoryTree
from foodtrace.trace.tlog_tiles import encode_bundle

REGULATOR = demo.REGULATOR.credit_code
FROM_LOG = ("--revocations", "log")


@dataclass(frozen=True)
class Revoked:
    seeded: stack.Seeded
    rpc: str
    revocation: int  # the index of the party.key.revoke entry
    backdated: int  # an entry signed with the revoked key, logged after it
    key_id: str
    earlier: int  # an entry the same key signed before its revocation
    licence: str  # the number of a licence the regulator revoked (before its key)
    licence_revocation: int
    merchant_code: str  # the code of the licence's holder


def test_the_log_scan_takes_only_entries_that_make_up_the_checkpoints_tree() -> None:
    key = keys.generate()
    kid = keys.key_id(key)

    def sign(kind: str, body: dict[str, Any]) -> bytes:
        return entry_mod.sign(key, type=kind, author="p1", body=body).leaf_data()

    entries = [sign("note", {"text": str(i)}) for i in range(299)]
    entries.insert(257, sign("party.key.revoke", {"party_id": "p1", "key_id": kid}))
    cp = Checkpoint("o/l", len(entries), MemoryTree.of(entries).root(), ())
    found = from_entries(entries, cp)
    assert found.size == 300 and set(found.keys) == {("p1", kid)}
    revocation = found.of("p1", kid)
    assert revocation is not None and revocation.index == 257
    assert found.of("p1", "0" * 16) is None
    assert bundle_widths(300) == [(0, 256), (1, 44)] and bundle_widths(256) == [(0, 256)]
    assert parse_bundle(encode_bundle(256, entries[256:])) == entries[256:]
    with pytest.raises(LogScanError, match="299 entries served"):
        from_entries(entries[:257] + entries[258:], cp)  # the revocation left out
    hidden = [*entries[:257], sign("note", {"text": "x"}), *entries[258:]]
    with pytest.raises(LogScanError, match="changed or left out"):
        from_entries(hidden, cp)  # the revocation swapped for another entry
    with pytest.raises(LogScanError, match="truncated"):
        parse_bundle(encode_bundle(0, entries[:2])[:-1])


@pytest.fixture(scope="module")
def revoked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Revoked]:
    root = tmp_path_factory.mktemp("revoke")
    with run_anvil() as rpc:
        seeded = stack.seed(root / "a", stack.free_port(), rpc, DEV_KEYS[0])
        settings = stack.settings_for(seeded.data_dir, seeded.port, rpc)
        old = keys.read_private(seeded.data_dir / demo.REGULATOR_KEY_FILE)
        kid = keys.key_id(old)
        before = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        revoke = entry_mod.sign(
            old,
            type="party.key.revoke",
            author=REGULATOR,
            body={"party_id": REGULATOR, "key_id": kid, "reason": "泄露"},
        )
        backdated = entry_mod.sign(
            old, type="note", author=REGULATOR, body={"text": "dated before"}, issued_at=before
        )
        registry.load_types()
        with MerkleLog(settings=settings, migrate=False) as log:
            earlier = next(
                i
                for i in range(log.size())
                if (e := log.entry(i)).author == REGULATOR and e.key == kid
            )
            merchants = {_merchant_id(u): u for _, u in seeded.qr}
            licence = next(  # the shop's food business licence (its page shows it)
                e.body
                for i in range(log.size())
                if (e := log.entry(i)).type == "licence.issue"
                and e.body["kind"] == "food_business"
                and merchants.get(e.body["holder"])
            )
            withdraw = entry_mod.sign(
                old,
                type="licence.revoke",
                author=REGULATOR,
                body={"number": licence["number"], "reason": "吊销"},
                issued_at=before,  # logged and dated before the key's revocation
            )
            (l_index,) = log.append([withdraw], projectors=[registered_projector()])
            (r_index,) = log.append([revoke], projectors=[registered_projector()])
            (b_index,) = log.append([backdated])
            log.issue_checkpoint()
            assert Anchorer(log, settings).run_once(force=True).anchored == b_index + 1
        yield Revoked(
            seeded,
            rpc,
            r_index,
            b_index,
            kid,
            earlier,
            licence["number"],
            l_index,
            merchants[licence["holder"]],
        )


def _merchant_id(url: str) -> str:
    subject = parse_code(url).subject
    return subject.merchant_id if isinstance(subject, Merchant) else ""


def _scanner(world: Revoked, url: str, *, from_log: bool) -> tuple[Scanner, Server, RpcClient]:
    rpc = RpcClient(world.rpc)
    origin = parse_verifier_key(world.seeded.log_key).name
    anchors = ContractReader(rpc, world.seeded.contract, log_id(origin))
    trust = Trust([keys.public_from_b64(world.seeded.authority_key)], world.seeded.log_key, anchors)
    server = Server(url)
    scanner = Scanner(trust, ScanState(), lambda _c: server, revocations_from_log=from_log)
    return scanner, server, rpc


def _author_step(scanner: Scanner, server: Server, index: int) -> dict[str, str]:
    check = scanner.check_record(server, server.record(index))
    step = {s.name: s for s in check.steps}
    assert all(step[n].status == "ok" for n in ("entry", "inclusion", "checkpoint", "chain"))
    return {"status": step["author"].status, "detail": step["author"].detail}


def scan(
    world: Revoked, url: str, state: Path, *extra: str, code: str = ""
) -> tuple[int, dict[str, Any]]:
    code = code or next(u for _, u in world.seeded.qr if "/01/" in u)
    pins = [
        *("--authority-key", world.seeded.authority_key, "--log-key", world.seeded.log_key),
        *("--rpc", world.rpc, "--contract", world.seeded.contract),
        *("--state", str(state), "--json", "--server", url),
    ]
    result = CliRunner().invoke(app, ["--text", code, *pins, *extra])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.node
def test_an_entry_logged_after_its_keys_proved_revocation_is_refused(revoked: Revoked) -> None:
    with stack.serve(revoked.seeded.data_dir, revoked.seeded.port, revoked.rpc) as url:
        scanner, server, rpc = _scanner(revoked, url, from_log=False)
        try:
            step = _author_step(scanner, server, revoked.backdated)
            assert step["status"] == "failed"
            assert (
                f"entry {revoked.backdated} was logged after entry {revoked.revocation}"
                in (step["detail"])
            )
            # what the key signed before its revocation still verifies
            assert _author_step(scanner, server, revoked.earlier)["status"] == "ok"
        finally:
            server.close()
            rpc.close()


@pytest.mark.node
def test_a_hidden_revocation_is_caught_only_by_reading_the_log(
    revoked: Revoked, tmp_path: Path
) -> None:
    lying = tmp_path / "lying"
    stack.fork(revoked.seeded.data_dir, lying)
    with sqlite3.connect(lying / "foodtrace.db") as db:  # the server forgets the revocation
        db.execute(
            "UPDATE party_keys SET revoked_entry_index = NULL WHERE party_id = ? AND key_id = ?",
            (REGULATOR, revoked.key_id),
        )
    with stack.serve(lying, stack.free_port(), revoked.rpc) as url:
        believed, _ = scan(revoked, url, tmp_path / "a.json", "--revocations", "server")
        code, data = scan(revoked, url, tmp_path / "b.json", "--revocations", "log")
        scanner, server, rpc = _scanner(revoked, url, from_log=False)
        try:  # believing the server, the backdated entry passes: the hole the log closes
            assert _author_step(scanner, server, revoked.backdated)["status"] == "ok"
        finally:
            server.close()
            rpc.close()
    assert believed == 0
    assert code == 1
    hidden = [
        s["detail"]
        for r in data["codes"][0]["records"]
        for s in r["steps"]
        if s["step"] == "author" and s["status"] == "failed"
    ]
    assert hidden and all(
        f"the log revokes it in entry {revoked.revocation}" in d and "hides a revocation" in d
        for d in hidden
    ), hidden


def _licence_step(data: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in data["codes"][0]["steps"] if s["step"] == "licences"]
    return step


@pytest.mark.node
def test_a_hidden_licence_revocation_is_caught_by_reading_the_log(
    revoked: Revoked, tmp_path: Path
) -> None:
    merchant = revoked.merchant_code
    with stack.serve(revoked.seeded.data_dir, revoked.seeded.port, revoked.rpc) as url:
        code, honest = scan(
            revoked, url, tmp_path / "h.json", "--revocations", "log", code=merchant
        )
    assert code == 0, [f for c in honest["codes"] for f in _failures(c)]
    step = _licence_step(honest)
    assert step["status"] == "ok" and "1 revoked, and shown with the revocation" in step["detail"]
    lying = tmp_path / "lying"
    stack.fork(revoked.seeded.data_dir, lying)
    with sqlite3.connect(lying / "foodtrace.db") as db:  # the page shows the licence as valid
        db.execute(
            "UPDATE licences SET revoked_on = NULL, revoke_reason = NULL, "
            "revoked_entry_index = NULL WHERE number = ?",
            (revoked.licence,),
        )
    with stack.serve(lying, stack.free_port(), revoked.rpc) as url:
        believed, trusting = scan(revoked, url, tmp_path / "a.json", code=merchant)
        caught, data = scan(
            revoked, url, tmp_path / "b.json", "--revocations", "log", code=merchant
        )
    assert believed == 0, trusting  # without the log, nothing shows the page lies
    assert not [s for s in trusting["codes"][0]["steps"] if s["step"] == "licences"]
    assert caught == 1
    step = _licence_step(data)
    assert step["status"] == "failed"
    assert (
        f"licence {revoked.licence}" in step["detail"]
        and f"revoked in entry {revoked.licence_revocation}" in step["detail"]
        and "hides a revocation" in step["detail"]
    ), step


def _failures(code: dict[str, Any]) -> list[str]:
    steps = [*code["steps"], *(s for r in code["records"] for s in r["steps"])]
    return [f"{s['step']}: {s['detail']}" for s in steps if s["status"] == "failed"]

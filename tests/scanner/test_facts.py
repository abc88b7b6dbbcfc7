"""A run's verified facts, shared by the scanners of a run, on anvil with a real server.

The facts codes share (chain roots, the log key, checkpoint signatures, author keys) are
verified once per run; each code's own records still are checked in full. A scanner sharing
the run's facts is given a genuine code first, then a later code whose answer the test forges
(a server can say anything): a changed record, and a checkpoint of the same size with
another root, properly signed by the log key. Both must fail. Facts verified under one set
of pins must not be found under another: another RPC URL or contract finds nothing, and is
read (and fails) on its own.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import rfc8785
import stack
from anvil import DEV_KEYS, run_anvil

from foodtrace.config import LOG_KEY_FILE
from foodtrace.scanner.chain import ContractReader, RpcClient
from foodtrace.scanner.client import Resolved, Server
from foodtrace.scanner.facts import Facts, Pins
from foodtrace.scanner.state import ScanState
from foodtrace.scanner.steps import CodeCheck
from foodtrace.scanner.verify import Scanner, Trust
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import Checkpoint, parse_verifier_key, sign_checkpoint
from foodtrace.trace.codes import Code
from foodtrace.trace.entry import leaf_hash
from foodtrace.trace.logkey import log_id
from foodtrace.trace.merkle import MemoryTree, inclusion_proof

pytestmark = pytest.mark.node


@dataclass(frozen=True)
class Run:
    seeded: stack.Seeded
    rpc: str
    url: str

    @property
    def lot_url(self) -> str:
        return next(u for _, u in self.seeded.qr if "/01/" in u)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("facts")
    with run_anvil() as rpc:
        port = stack.free_port()
        seeded = stack.seed(root / "a", port, rpc, DEV_KEYS[0])
        with stack.serve(root / "a", port, rpc) as url:
            yield Run(seeded, rpc, url)


class Forging(Server):
    """A server whose answer for a code is the genuine one passed through ``forge``."""

    def __init__(self, base_url: str, forge: Any) -> None:
        super().__init__(base_url)
        self.forge = forge

    def resolve(self, code: Code) -> Resolved:
        forged: Resolved = self.forge(super().resolve(code))
        return forged


def scanner(
    run: Run, facts: Facts, server: Server, *, rpc: str = "", contract: str = ""
) -> Scanner:
    log = log_id(parse_verifier_key(run.seeded.log_key).name)
    reader = ContractReader(RpcClient(rpc or run.rpc), contract or run.seeded.contract, log)
    trust = Trust([keys.public_from_b64(run.seeded.authority_key)], run.seeded.log_key, reader)
    return Scanner(trust, ScanState(), lambda _c: server, facts=facts)


def steps(check: CodeCheck, index: int) -> dict[str, tuple[str, str]]:
    (record,) = [r for r in check.records if r.index == index]
    return {s.name: (s.status, s.detail) for s in record.steps}


def _subject_record(resolved: Resolved) -> dict[str, Any]:
    """The lot's own record (the one the subject step needs), to forge."""
    return next(r for r in resolved.records if json.loads(r["data"])["type"] == "lot.create")


def test_a_forged_record_in_a_later_code_of_the_run_still_fails(run: Run) -> None:
    facts = Facts()
    genuine = Server(run.url)
    first = scanner(run, facts, genuine).check_text(run.lot_url, "first")
    assert first.ok, first.failures()
    forged_index: list[int] = []

    def forge(resolved: Resolved) -> Resolved:
        target = _subject_record(resolved)
        entry = json.loads(target["data"])
        entry["body"]["quantity"] = {"value": 999999, "uom": "KGM"}
        data = rfc8785.dumps(entry).decode()
        forged = {**target, "data": data}
        forged_index.append(target["index"])
        records = [forged if r is target else r for r in resolved.records]
        return dataclasses.replace(resolved, records=records)

    later = scanner(run, facts, Forging(run.url, forge)).check_text(run.lot_url, "later")
    assert not later.ok
    status = steps(later, forged_index[0])
    assert status["inclusion"][0] == "failed" and "root mismatch" in status["inclusion"][1]
    assert status["author"][0] == "failed" and "does not verify" in status["author"][1]
    assert {s.name: s.status for s in later.steps}["subject"] == "failed"
    # the records left as they were still verify, with the run's facts
    assert all(r.ok for r in later.records if r.index != forged_index[0])


def test_a_checkpoint_of_the_same_size_with_another_root_fails(run: Run) -> None:
    facts = Facts()
    first = scanner(run, facts, Server(run.url)).check_text(run.lot_url, "first")
    assert first.ok, first.failures()
    log_key = keys.read_private(run.seeded.data_dir / LOG_KEY_FILE)
    origin = parse_verifier_key(run.seeded.log_key).name
    forged_at: list[tuple[int, int, bytes]] = []

    def forge(resolved: Resolved) -> Resolved:
        """The lot's record in another tree of the same size: its inclusion proof and the
        checkpoint's signature (by the real log key) are both right; only the root differs."""
        target = _subject_record(resolved)
        index = target["index"]
        size = int(target["proof"]["checkpoint"].split("\n")[1])
        leaves = [leaf_hash(b"other %d" % i) for i in range(size)]
        leaves[index] = leaf_hash(target["data"].encode())
        tree = MemoryTree(leaves)
        root, read = tree.root(), tree.read
        note = sign_checkpoint(Checkpoint(origin, size, root), origin, log_key)
        proof = {
            "index": index,
            "proof": [base64.b64encode(h).decode() for h in inclusion_proof(index, size, read)],
            "checkpoint": note,
        }
        forged_at.append((index, size, root))
        records = [{**target, "proof": proof} if r is target else r for r in resolved.records]
        return dataclasses.replace(resolved, records=records)

    later = scanner(run, facts, Forging(run.url, forge)).check_text(run.lot_url, "later")
    assert not later.ok
    index, size, root = forged_at[0]
    status = steps(later, index)
    assert status["inclusion"][0] == status["checkpoint"][0] == "ok", status
    assert status["chain"][0] == "failed", status
    assert f"root on chain at size {size} is " in status["chain"][1]
    assert f"the checkpoint's {root.hex()}" in status["chain"][1]


def test_facts_verified_under_one_set_of_pins_are_not_used_under_another(run: Run) -> None:
    facts = Facts()
    server = Server(run.url)
    first = scanner(run, facts, server).check_text(run.lot_url, "first")
    assert first.ok, first.failures()
    # the same pins find the facts: no chain read at all for a later code
    again = scanner(run, facts, server)
    assert again.check_text(run.lot_url, "again").ok
    assert again.anchors.reads == 0
    # another RPC URL (nothing listens there) finds none of them: it reads, and fails
    port = stack.free_port()
    elsewhere = scanner(run, facts, server, rpc=f"http://127.0.0.1:{port}")
    check = elsewhere.check_text(run.lot_url, "other rpc")
    assert not check.ok
    found = {s.name: s for s in check.steps}["log key"]
    assert found.status == "failed" and "could not read the pinned log key" in found.detail
    assert all({s.name: s.status for s in r.steps}["chain"] == "failed" for r in check.records)
    # another contract (no code at that address) finds none of them either
    other = scanner(run, facts, server, contract="0x" + "11" * 20)
    check = other.check_text(run.lot_url, "other contract")
    assert not check.ok and other.anchors.reads > 0
    assert {s.name: s.status for s in check.steps}["log key"] == "failed"


def test_pins_that_differ_in_any_one_part_share_nothing() -> None:
    authority = keys.generate().public_key()
    rpc = RpcClient("http://127.0.0.1:8545")
    reader = ContractReader(rpc, "0x" + "ab" * 20, log_id("example.org/log"))
    log_key = "example.org/log+0123abcd+AAAA"
    pins = Pins.of([authority], log_key, reader)
    facts = Facts()
    known = facts.under(pins)
    # the same pins, the contract spelled in capitals: the same facts
    upper = ContractReader(rpc, "0x" + "AB" * 20, reader.log)
    assert facts.under(Pins.of([authority], log_key, upper)) is known
    elsewhere = ContractReader(RpcClient("http://127.0.0.1:8546"), reader.address, reader.log)
    others = [
        Pins.of([keys.generate().public_key()], log_key, reader),
        Pins.of([authority], "example.org/log+89abcdef+BBBB", reader),
        Pins.of([authority], log_key, elsewhere),
        Pins.of([authority], log_key, ContractReader(rpc, "0x" + "cd" * 20, reader.log)),
        Pins.of([authority], log_key, ContractReader(rpc, reader.address, log_id("b.org/log"))),
    ]
    assert all(facts.under(p) is not known for p in others)
    assert len({id(facts.under(p)) for p in others}) == len(others)
    assert known.author_keys(True) is not known.author_keys(False)

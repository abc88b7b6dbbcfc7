"""The chains themselves: the embedded chain survives restarts and kill -9 with every block
whole, a second process cannot open it, anvil keeps anchors over a graceful restart, and
``connect`` picks the chain the settings name."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from anvil import DEV_KEYS, run_anvil
from eth_account import Account

from foodtrace.config import Settings
from foodtrace.ledger.chain import (
    ChainError,
    connect,
    connect_embedded,
    connect_rpc,
    embedded_operator_key,
    load_operator_key,
)
from foodtrace.ledger.contract import TraceAnchor, deploy, log_id
from foodtrace.trace.merkle import MemoryTree, consistency_proof

ORIGIN = "foodtrace.test/log"
SINK = "0x000000000000000000000000000000000000dEaD"
LEAVES = 400
CRASH_ROUNDS = 4
KEY_HASH = hashlib.sha256(b"a log key").digest()  # any non-zero pin will do here


def _tree() -> MemoryTree:
    return MemoryTree.of(f"entry-{i}".encode() for i in range(LEAVES))


def _setup_contract(path: Path) -> str:
    with connect_embedded(path) as chain:
        contract = TraceAnchor(chain, deploy(chain))
        contract.register_log(log_id(ORIGIN), KEY_HASH)
        contract.set_anchorer(log_id(ORIGIN), chain.address)
        return contract.address


def test_embedded_chain_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    with connect_embedded(path) as chain:
        genesis = chain.w3.eth.get_block(0)["hash"]
        operator = chain.address
        for value in range(1, 6):
            chain.transact({"to": SINK, "value": value})
        head = chain.w3.eth.get_block("latest")
        balance = chain.w3.eth.get_balance(operator)

    with connect_embedded(path) as chain:
        assert chain.address == operator == Account.from_key(embedded_operator_key()).address
        assert chain.w3.eth.get_block(0)["hash"] == genesis  # not a new genesis
        assert chain.w3.eth.get_block("latest") == head
        assert chain.w3.eth.get_balance(operator) == balance
        assert chain.w3.eth.get_balance(SINK) == 15
        receipt = chain.transact({"to": SINK, "value": 1})
        assert receipt["blockNumber"] == head["number"] + 1
        assert chain.w3.eth.get_block(receipt["blockNumber"])["parentHash"] == head["hash"]


def test_embedded_chain_is_one_process_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    with connect_embedded(path), pytest.raises(ChainError, match="in use"):
        connect_embedded(path)
    with connect_embedded(path) as chain:  # released on close
        assert chain.w3.eth.block_number == 0


def test_embedded_anchors_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    tree, log = _tree(), log_id(ORIGIN)
    address = _setup_contract(path)
    with connect_embedded(path) as chain:
        contract = TraceAnchor(chain, address)
        contract.anchor(log, 5, tree.root(5), [])
        receipt = contract.anchor(log, 9, tree.root(9), consistency_proof(5, 9, tree.read))

    with connect_embedded(path) as chain:
        contract = TraceAnchor(chain, address)
        assert contract.latest(log) == (9, tree.root(9))
        stored = contract.anchor_at(log, 5)
        assert stored is not None and stored.root == tree.root(5)
        found = contract.find_anchor_tx(log, 9)
        assert found is not None and found.tx_hash == receipt.tx_hash
        contract.anchor(log, 20, tree.root(20), consistency_proof(9, 20, tree.read))
        assert contract.latest(log) == (20, tree.root(20))


# Anchors growing roots until killed, printing "size block" once each anchor is mined.
CHILD = """
import sys
from pathlib import Path
from foodtrace.ledger.chain import connect_embedded
from foodtrace.ledger.contract import TraceAnchor, log_id
from foodtrace.trace.merkle import MemoryTree, consistency_proof

path, address, origin, leaves = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
tree = MemoryTree.of(f"entry-{i}".encode() for i in range(leaves))
log = log_id(origin)
with connect_embedded(path) as chain:
    contract = TraceAnchor(chain, address)
    size, _ = contract.latest(log)
    while size + 1 < leaves:
        new = size + 1 + size % 3
        proof = consistency_proof(size, new, tree.read) if size else []
        receipt = contract.anchor(log, new, tree.root(new), proof)
        sys.stdout.write(f"{new} {receipt.block_number}\\n")
        sys.stdout.flush()
        size = new
"""


@pytest.mark.slow
def test_embedded_chain_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    tree, log = _tree(), log_id(ORIGIN)
    address = _setup_contract(path)
    rng = random.Random(20240601)
    reported: dict[int, int] = {}  # size -> block, as the child saw them mined
    for _ in range(CRASH_ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), address, ORIGIN, str(LEAVES)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        wanted = rng.randint(2, 8)
        for _ in range(wanted):
            line = child.stdout.readline()
            assert line, f"child exited early with {child.wait()}"
            size, block = map(int, line.split())
            reported[size] = block
        time.sleep(rng.uniform(0, 0.1))  # land anywhere in the next anchor, commit included
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        for line in child.stdout.read().splitlines(keepends=True):  # reports still in the pipe
            if line.endswith("\n"):  # a report the kill cut short is not one
                size, block = map(int, line.split())
                reported[size] = block
        child.stdout.close()

        with connect_embedded(path) as chain:
            contract = TraceAnchor(chain, address)
            last = max(reported)
            for size, block in reported.items():
                stored = contract.anchor_at(log, size)
                assert stored is not None, f"anchor at size {size} lost"
                assert (stored.root, stored.block_number) == (tree.root(size), block)
            latest_size, latest_root = contract.latest(log)
            # The child may have mined one more anchor than it lived to report.
            assert latest_size in (last, last + 1 + last % 3)
            assert latest_root == tree.root(latest_size)
            head = chain.w3.eth.get_block("latest")
            assert head["number"] >= reported[last]
            for number in range(max(1, head["number"] - 3), head["number"] + 1):
                parent = chain.w3.eth.get_block(number - 1)
                assert chain.w3.eth.get_block(number)["parentHash"] == parent["hash"]


def test_anvil_anchors_survive_graceful_restart(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    tree, log = _tree(), log_id(ORIGIN)
    with run_anvil(state) as url:
        chain = connect_rpc(url, DEV_KEYS[0])
        contract = TraceAnchor(chain, deploy(chain))
        contract.register_log(log, KEY_HASH)
        contract.set_anchorer(log, chain.address)
        contract.anchor(log, 3, tree.root(3), [])
        receipt = contract.anchor(log, 10, tree.root(10), consistency_proof(3, 10, tree.read))
    assert state.is_file()

    with run_anvil(state) as url:
        chain = connect_rpc(url, DEV_KEYS[0])
        contract = TraceAnchor(chain, contract.address)
        assert contract.latest(log) == (10, tree.root(10))
        stored = contract.anchor_at(log, 3)
        assert stored is not None and stored.root == tree.root(3)
        found = contract.find_anchor_tx(log, 10)
        assert found is not None and found.tx_hash == receipt.tx_hash
        contract.anchor(log, 11, tree.root(11), consistency_proof(10, 11, tree.read))
        assert contract.latest(log) == (11, tree.root(11))


def test_connect_follows_settings(tmp_path: Path, anvil_url: str) -> None:
    with connect(Settings(data_dir=tmp_path)) as chain:
        assert chain.embedded is not None
        assert (tmp_path / "chain.sqlite").is_file()

    key_file = tmp_path / "operator.key"
    key_file.write_text(DEV_KEYS[1] + "\n")
    with connect(Settings(data_dir=tmp_path, chain_url=anvil_url, chain_key_file=key_file)) as c:
        assert c.embedded is None
        assert c.address == Account.from_key(DEV_KEYS[1]).address
        assert c.w3.eth.chain_id == c.chain_id


def test_operator_key_file_is_created_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "chain.key"
    key = load_operator_key(path)
    assert load_operator_key(path) == key
    assert path.stat().st_mode & 0o077 == 0
    path.write_text("not a key")
    with pytest.raises(ChainError, match="private key"):
        load_operator_key(path)

"""TraceAnchor through the client, on the embedded chain and on anvil: a log grows, each
root is anchored with a real RFC 9162 consistency proof, and every bad anchor is refused
with the contract's own reason."""

from __future__ import annotations

import hashlib

import pytest

from foodtrace.ledger.chain import Chain
from foodtrace.ledger.contract import (
    AnchorRefused,
    TraceAnchor,
    decode_refusal,
    deploy,
    log_id,
    read_log_key_hash,
    read_root,
)
from foodtrace.trace import keys
from foodtrace.trace.logkey import NO_KEY, log_key_hash
from foodtrace.trace.merkle import MemoryTree, consistency_proof

ORIGIN = "foodtrace.test/log"
KEY_HASH = log_key_hash(keys.generate())
SIZES = [1, 2, 3, 4, 7, 8, 13, 16, 31, 64, 100]  # powers of two and not, small and large steps


@pytest.fixture
def tree() -> MemoryTree:
    return MemoryTree.of(f"entry-{i}".encode() for i in range(128))


@pytest.fixture
def anchor(chain: Chain) -> TraceAnchor:
    """A freshly deployed contract with the operator registered as the log's anchorer."""
    contract = TraceAnchor(chain, deploy(chain))
    contract.register_log(log_id(ORIGIN), KEY_HASH)
    contract.set_anchorer(log_id(ORIGIN), chain.address)
    return contract


def _proof(tree: MemoryTree, old: int, new: int) -> list[bytes]:
    return consistency_proof(old, new, tree.read) if old else []


def _refusal(excinfo: pytest.ExceptionInfo[AnchorRefused]) -> tuple[str, dict[str, object]]:
    return excinfo.value.name, excinfo.value.args_by_name


def test_log_id_is_sha256_of_origin() -> None:
    assert log_id(ORIGIN) == hashlib.sha256(ORIGIN.encode()).digest()
    assert log_id(ORIGIN) != log_id(ORIGIN + "2")


def test_deploy_register_and_roles(chain: Chain, stranger: Chain) -> None:
    contract = TraceAnchor(chain, deploy(chain))
    log = log_id(ORIGIN)
    assert contract.owner() == chain.address
    assert contract.latest(log) == (0, b"\x00" * 32)
    assert contract.log_key_hash(log) == NO_KEY
    contract.register_log(log, KEY_HASH)
    assert contract.log_key_hash(log) == KEY_HASH
    assert not contract.is_anchorer(log, chain.address)
    contract.set_anchorer(log, stranger.address)
    assert contract.is_anchorer(log, stranger.address)
    contract.set_anchorer(log, stranger.address, allowed=False)
    assert not contract.is_anchorer(log, stranger.address)


def test_anchor_growing_tree(chain: Chain, anchor: TraceAnchor, tree: MemoryTree) -> None:
    log = log_id(ORIGIN)
    receipts = {}
    previous = 0
    for size in SIZES:
        receipt = anchor.anchor(log, size, tree.root(size), _proof(tree, previous, size))
        assert receipt.gas_used > 0
        assert anchor.latest(log) == (size, tree.root(size))
        receipts[size] = receipt
        previous = size

    for size, receipt in receipts.items():
        stored = anchor.anchor_at(log, size)
        assert stored is not None
        assert (stored.tree_size, stored.root) == (size, tree.root(size))
        assert stored.block_number == receipt.block_number
        block = chain.w3.eth.get_block(receipt.block_number)
        assert bytes(block["hash"]) == receipt.block_hash
        assert stored.timestamp == block["timestamp"]
        assert read_root(chain.w3, anchor.address, log, size) == tree.root(size)

        found = anchor.find_anchor_tx(log, size)
        assert found is not None
        assert (found.tx_hash, found.block_number, found.block_hash) == (
            receipt.tx_hash,
            receipt.block_number,
            receipt.block_hash,
        )
        assert found.root == tree.root(size)

    assert anchor.anchor_at(log, 5) is None
    assert read_root(chain.w3, anchor.address, log, 5) is None
    assert anchor.find_anchor_tx(log, 5) is None


def test_refusals(anchor: TraceAnchor, stranger: Chain, tree: MemoryTree) -> None:
    log = log_id(ORIGIN)
    with pytest.raises(AnchorRefused) as refused:
        anchor.anchor(log, 4, tree.root(4), [tree.root(2)])
    assert _refusal(refused) == ("BadProofLength", {"expected": 0, "got": 1})
    anchor.anchor(log, 4, tree.root(4), [])

    as_stranger = TraceAnchor(stranger, anchor.address)
    with pytest.raises(AnchorRefused) as refused:
        as_stranger.anchor(log, 8, tree.root(8), _proof(tree, 4, 8))
    assert _refusal(refused) == ("NotAnchorer", {"logId": log, "caller": stranger.address})
    with pytest.raises(AnchorRefused) as refused:
        as_stranger.register_log(log_id("other"), KEY_HASH)
    assert _refusal(refused) == ("NotOwner", {"caller": stranger.address})
    with pytest.raises(AnchorRefused) as refused:
        as_stranger.set_anchorer(log, stranger.address)
    assert refused.value.name == "NotOwner"

    for size in (4, 3):  # the same size again, and a shrinking one
        with pytest.raises(AnchorRefused) as refused:
            anchor.anchor(log, size, tree.root(size), [])
        assert _refusal(refused) == (
            "SizeNotIncreasing",
            {"logId": log, "latestSize": 4, "newSize": size},
        )

    proof = _proof(tree, 4, 13)
    wrong_root = tree.root(12)
    with pytest.raises(AnchorRefused) as refused:
        anchor.anchor(log, 13, wrong_root, proof)
    assert _refusal(refused) == ("InconsistentRoot", {"logId": log, "latestSize": 4, "newSize": 13})

    for i in range(len(proof)):  # every single forged element is caught
        forged = list(proof)
        forged[i] = bytes([forged[i][0] ^ 1]) + forged[i][1:]
        with pytest.raises(AnchorRefused) as refused:
            anchor.anchor(log, 13, tree.root(13), forged)
        assert refused.value.name == "InconsistentRoot"

    with pytest.raises(AnchorRefused) as refused:
        anchor.anchor(log, 13, tree.root(13), proof[:-1])
    assert _refusal(refused) == ("BadProofLength", {"expected": len(proof), "got": len(proof) - 1})

    with pytest.raises(AnchorRefused) as refused:
        anchor.anchor(log_id("unregistered"), 1, tree.root(1), [])
    assert _refusal(refused) == ("UnknownLog", {"logId": log_id("unregistered")})
    with pytest.raises(AnchorRefused) as refused:
        anchor.register_log(log, KEY_HASH)
    assert _refusal(refused) == ("LogAlreadyRegistered", {"logId": log})

    assert anchor.latest(log) == (4, tree.root(4))  # nothing refused changed the state
    anchor.anchor(log, 13, tree.root(13), proof)
    assert anchor.latest(log) == (13, tree.root(13))


def test_ownership_transfer(anchor: TraceAnchor, stranger: Chain) -> None:
    anchor.transfer_ownership(stranger.address)
    assert anchor.owner() == stranger.address
    with pytest.raises(AnchorRefused) as refused:
        anchor.register_log(log_id("other"), KEY_HASH)
    assert refused.value.name == "NotOwner"
    TraceAnchor(stranger, anchor.address).register_log(log_id("other"), KEY_HASH)


def test_log_key_pinned_and_rotated(anchor: TraceAnchor, stranger: Chain) -> None:
    log = log_id(ORIGIN)
    assert read_log_key_hash(anchor.chain.w3, anchor.address, log) == KEY_HASH
    new = log_key_hash(keys.generate())
    with pytest.raises(AnchorRefused) as refused:
        TraceAnchor(stranger, anchor.address).rotate_log_key(log, new)
    assert _refusal(refused) == ("NotOwner", {"caller": stranger.address})
    with pytest.raises(AnchorRefused) as refused:
        anchor.rotate_log_key(log, NO_KEY)
    assert _refusal(refused) == ("EmptyKeyHash", {"logId": log})
    with pytest.raises(AnchorRefused) as refused:
        anchor.rotate_log_key(log_id("unregistered"), new)
    assert refused.value.name == "UnknownLog"
    assert anchor.log_key_hash(log) == KEY_HASH  # nothing refused changed it
    summary = anchor.rotate_log_key(log, new)
    assert anchor.log_key_hash(log) == new
    event = anchor.contract.events.LogKeyRotated()
    (rotated,) = event.get_logs(from_block=summary.block_number, to_block=summary.block_number)
    assert (rotated["args"]["oldHash"], rotated["args"]["newHash"]) == (KEY_HASH, new)
    with pytest.raises(AnchorRefused) as refused:
        anchor.register_log(log_id("zero"), NO_KEY)
    assert _refusal(refused) == ("EmptyKeyHash", {"logId": log_id("zero")})


def test_decode_refusal_ignores_foreign_data() -> None:
    assert decode_refusal(b"") is None
    assert decode_refusal(bytes.fromhex("08c379a0") + b"\x00" * 64) is None  # Error(string)

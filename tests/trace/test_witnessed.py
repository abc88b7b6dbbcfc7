"""A reader's k-of-n witness requirement, and the checkpoint it used lying in that history."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace import checkpoint as cp
from foodtrace.trace.cosignature import CosignatureError, add_cosignatures, cosign, cosigner_vkey
from foodtrace.trace.errors import CheckpointError
from foodtrace.trace.merkle import MemoryTree, consistency_proof
from foodtrace.trace.witnessed import require_witnessed

ORIGIN = "test.foodtrace/log"
LOG = Ed25519PrivateKey.generate()
LOG_VKEY = cp.verifier_key(ORIGIN, LOG)
W = {n: Ed25519PrivateKey.generate() for n in ("w1.example/w", "w2.example/w")}
VKEYS = [cosigner_vkey(n, k) for n, k in W.items()]
TREE = MemoryTree.of(b"entry %d" % i for i in range(30))
FORK = MemoryTree.of(b"fork %d" % i for i in range(30))


def head(tree: MemoryTree, size: int) -> cp.Checkpoint:
    return cp.Checkpoint(ORIGIN, size, tree.root(size))


def witnessed(tree: MemoryTree, size: int, by: list[str]) -> str:
    c = head(tree, size)
    note = cp.sign_checkpoint(c, ORIGIN, LOG)
    return add_cosignatures(note, [cosign(c.body(), n, W[n], 1_700_000_000) for n in by])


def fetch(tree: MemoryTree):  # type: ignore[no-untyped-def]
    return lambda a, b: consistency_proof(a, b, tree.read)


def test_the_quorum_and_the_used_checkpoint_in_the_witnessed_history() -> None:
    note = witnessed(TREE, 30, list(W))
    got, cosigs = require_witnessed(note, LOG_VKEY, VKEYS, 2, head(TREE, 12), fetch(TREE))
    assert got.size == 30 and len(cosigs) == 2
    # The used checkpoint may be newer than the witnessed one, too.
    older = witnessed(TREE, 10, list(W))
    assert require_witnessed(older, LOG_VKEY, VKEYS, 2, head(TREE, 30), fetch(TREE))[0].size == 10


def test_a_fork_shown_to_this_reader_fails_even_with_the_quorum_on_the_real_log() -> None:
    note = witnessed(TREE, 30, list(W))
    # The records were proved against the fork's checkpoint; the server proves consistency
    # from its fork, which cannot reach the witnessed root.
    with pytest.raises(CheckpointError, match="not in the witnessed history"):
        require_witnessed(note, LOG_VKEY, VKEYS, 2, head(FORK, 12), fetch(FORK))
    with pytest.raises(CheckpointError, match="two roots"):
        require_witnessed(note, LOG_VKEY, VKEYS, 2, head(FORK, 30), fetch(FORK))


def test_fewer_cosignatures_than_required_fail() -> None:
    note = witnessed(TREE, 30, ["w1.example/w"])
    assert len(require_witnessed(note, LOG_VKEY, VKEYS, 1)[1]) == 1
    with pytest.raises(CosignatureError, match="1 of the 2 required"):
        require_witnessed(note, LOG_VKEY, VKEYS, 2)

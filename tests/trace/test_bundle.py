"""Proof bundles in the C2SP tlog-proof text form and as JSON."""

from __future__ import annotations

import pytest

from foodtrace.trace import bundle, checkpoint, keys, merkle
from foodtrace.trace.errors import MalformedInputError, VerificationError

KEY = keys.generate()
VKEY = checkpoint.verifier_key("example.org/log", KEY)


def make_bundle(index: int, size: int = 13) -> tuple[bundle.ProofBundle, bytes]:
    tree = merkle.MemoryTree.of([b"e%d" % i for i in range(size)])
    note = checkpoint.sign_checkpoint(
        checkpoint.Checkpoint("example.org/log", size, tree.root()), "example.org/log", KEY
    )
    proof = tuple(merkle.inclusion_proof(index, size, tree.read))
    return bundle.ProofBundle(index, proof, note, extra=b"lot:L1"), tree.leaves[index]


def test_text_round_trip_and_verify() -> None:
    b, leaf = make_bundle(5)
    text = b.to_text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert "\nindex 5\n" in text
    again = bundle.from_text(text)
    assert again == b
    assert again.verify(leaf, [VKEY]).size == 13


def test_json_round_trip() -> None:
    b, leaf = make_bundle(0)
    again = bundle.from_json(b.to_json())
    assert again == b
    again.verify(leaf, [VKEY])


def test_wrong_leaf_fails() -> None:
    b, _ = make_bundle(3)
    with pytest.raises(VerificationError):
        b.verify(merkle.leaf_hash(b"not it"), [VKEY])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "c2sp.org/tlog-proof@v1\nindex x\n\n",
        "wrong header\nindex 1\n\nnote",
        "c2sp.org/tlog-proof@v1\nindex 1\n!!\n\nn",
    ],
)
def test_malformed_text(text: str) -> None:
    with pytest.raises(MalformedInputError):
        bundle.from_text(text)

"""The Merkle core against the RFC 6962 vectors, a slow reference tree, and mutations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foodtrace.trace import merkle
from foodtrace.trace.errors import (
    MalformedInputError,
    ProofLengthError,
    RootMismatchError,
    VerificationError,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "rfc6962_vectors.json").read_text())
REF_LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves_hex"]]


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written as the RFC states it: slow, recursive, obviously right."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_root(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_root(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [reference_root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], complete), reference_root(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_root(leaves[:k])]


def data(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") for i in range(n)]


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots(size: int) -> None:
    tree = merkle.MemoryTree.of(REF_LEAVES)
    assert tree.root(size).hex() == VECTORS["roots_hex"][size]
    assert reference_root(REF_LEAVES[:size]).hex() == VECTORS["roots_hex"][size]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_rfc6962_inclusion_vectors(case: dict[str, object]) -> None:
    tree = merkle.MemoryTree.of(REF_LEAVES)
    index, size = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    proof = merkle.inclusion_proof(index, size, tree.read)
    assert [p.hex() for p in proof] == case["proof"]
    merkle.verify_inclusion(index, size, tree.leaves[index], proof, tree.root(size))


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_rfc6962_consistency_vectors(case: dict[str, object]) -> None:
    tree = merkle.MemoryTree.of(REF_LEAVES)
    s1, s2 = int(case["size1"]), int(case["size2"])  # type: ignore[call-overload]
    proof = merkle.consistency_proof(s1, s2, tree.read)
    assert [p.hex() for p in proof] == case["proof"]
    merkle.verify_consistency(s1, s2, proof, tree.root(s1), tree.root(s2))


def test_proofs_equal_reference_for_all_small_trees() -> None:
    for n in range(1, 40):
        leaves = data(n)
        tree = merkle.MemoryTree.of(leaves)
        assert tree.root() == reference_root(leaves)
        for i in range(n):
            assert merkle.inclusion_proof(i, n, tree.read) == reference_path(i, leaves)
        for m in range(1, n + 1):
            assert merkle.consistency_proof(m, n, tree.read) == reference_subproof(m, leaves, True)


def test_perfect_nodes_cover_range_exactly() -> None:
    for begin in range(0, 70, 3):
        for end in range(begin, 80, 7):
            covered = []
            for level, index in merkle.perfect_nodes(begin, end):
                covered.extend(range(index << level, (index + 1) << level))
            assert covered == list(range(begin, end))


sizes = st.integers(min_value=1, max_value=3000)


@st.composite
def inclusion_case(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(sizes)
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@st.composite
def consistency_case(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(sizes)
    return draw(st.integers(min_value=1, max_value=size2)), size2


BIG = merkle.MemoryTree.of(data(3000))


def inclusion_shape(index: int, size: int) -> tuple[int, ...] | None:
    """What the verifier computes from (index, size): which side each proof hash goes."""
    if not 0 <= index < size:
        return None
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return (inner, border, index & ((1 << inner) - 1))


def _valid(shape: tuple[int, ...] | None) -> list[tuple[int, ...]]:
    return [] if shape is None else [shape]


def consistency_shape(size1: int, size2: int) -> tuple[int, ...] | None:
    if not 1 <= size1 < size2:
        return None
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length() - shift
    border = bin((size1 - 1) >> (inner + shift)).count("1")
    seeded = int(size1 == 1 << shift)
    return (seeded, inner, border, ((size1 - 1) >> shift) & ((1 << inner) - 1))


def flip(b: bytes, bit: int) -> bytes:
    arr = bytearray(b)
    arr[bit // 8 % len(arr)] ^= 1 << (bit % 8)
    return bytes(arr)


@settings(max_examples=200, deadline=None)
@given(inclusion_case(), st.integers(min_value=0, max_value=255), st.data())
def test_inclusion_verifies_and_any_bit_flip_fails(
    case: tuple[int, int], bit: int, draw: st.DataObject
) -> None:
    index, size = case
    tree = merkle.MemoryTree(BIG.leaves[:size])
    root, leaf = tree.root(), tree.leaves[index]
    proof = merkle.inclusion_proof(index, size, tree.read)
    merkle.verify_inclusion(index, size, leaf, proof, root)

    target = draw.draw(st.sampled_from(["leaf", "root", "proof", "index", "size"]))
    args: list[object] = [index, size, leaf, list(proof), root]
    if target == "leaf":
        args[2] = flip(leaf, bit)
    elif target == "root":
        args[4] = flip(root, bit)
    elif target == "proof":
        if not proof:
            return
        j = draw.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        args[3] = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
    elif target == "index":
        args[0] = index ^ (1 << (bit % 12))
    else:
        args[1] = size ^ (1 << (bit % 12))
    if target in ("index", "size") and inclusion_shape(index, size) in _valid(
        inclusion_shape(
            int(args[0]),  # type: ignore[call-overload]
            int(args[1]),  # type: ignore[call-overload]
        )
    ):
        # RFC 9162 audit paths do not bind the size on their own: (0, 5) and (0, 7) hash
        # the same way. The size is bound by the signed checkpoint, so such pairs verify.
        merkle.verify_inclusion(*args)  # type: ignore[arg-type]
        return
    with pytest.raises(VerificationError):
        merkle.verify_inclusion(*args)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(consistency_case(), st.integers(min_value=0, max_value=255), st.data())
def test_consistency_verifies_and_any_bit_flip_fails(
    case: tuple[int, int], bit: int, draw: st.DataObject
) -> None:
    s1, s2 = case
    tree = merkle.MemoryTree(BIG.leaves[:s2])
    r1, r2 = tree.root(s1), tree.root(s2)
    proof = merkle.consistency_proof(s1, s2, tree.read)
    merkle.verify_consistency(s1, s2, proof, r1, r2)

    target = draw.draw(st.sampled_from(["root1", "root2", "proof", "size1", "size2"]))
    args: list[object] = [s1, s2, list(proof), r1, r2]
    if target == "root1":
        args[3] = flip(r1, bit)
    elif target == "root2":
        args[4] = flip(r2, bit)
    elif target == "proof":
        if not proof:
            return
        j = draw.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        args[2] = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
    elif target == "size1":
        args[0] = s1 ^ (1 << (bit % 12))
    else:
        args[1] = s2 ^ (1 << (bit % 12))
    if target in ("size1", "size2") and consistency_shape(s1, s2) in _valid(
        consistency_shape(
            int(args[0]),  # type: ignore[call-overload]
            int(args[1]),  # type: ignore[call-overload]
        )
    ):
        merkle.verify_consistency(*args)  # type: ignore[arg-type]  # same hashing, see above
        return
    with pytest.raises(VerificationError):
        merkle.verify_consistency(*args)  # type: ignore[arg-type]


def test_malformed_inputs_raise_typed_errors() -> None:
    tree = merkle.MemoryTree.of(data(10))
    root, leaf = tree.root(), tree.leaves[3]
    proof = merkle.inclusion_proof(3, 10, tree.read)
    with pytest.raises(MalformedInputError):
        merkle.verify_inclusion(10, 10, leaf, proof, root)  # index >= size
    with pytest.raises(MalformedInputError):
        merkle.verify_inclusion(-1, 10, leaf, proof, root)
    with pytest.raises(MalformedInputError):
        merkle.verify_inclusion(3, 10, leaf[:31], proof, root)  # short leaf hash
    with pytest.raises(MalformedInputError):
        merkle.verify_inclusion(3, 10, leaf, [*proof[:-1], proof[-1] + b"\x00"], root)
    with pytest.raises(MalformedInputError):
        merkle.verify_inclusion(3, 10, leaf, proof, root[:16])
    with pytest.raises(ProofLengthError):
        merkle.verify_inclusion(3, 10, leaf, [*proof, proof[0]], root)  # extra element
    with pytest.raises(ProofLengthError):
        merkle.verify_inclusion(3, 10, leaf, proof[:-1], root)  # missing element
    with pytest.raises(MalformedInputError):
        merkle.verify_inclusion(True, 10, leaf, proof, root)  # type: ignore[arg-type]

    cproof = merkle.consistency_proof(4, 10, tree.read)
    r4 = tree.root(4)
    with pytest.raises(MalformedInputError):
        merkle.verify_consistency(0, 10, cproof, r4, root)  # size1 = 0
    with pytest.raises(MalformedInputError):
        merkle.verify_consistency(11, 10, cproof, r4, root)
    with pytest.raises(ProofLengthError):
        merkle.verify_consistency(4, 10, [*cproof, cproof[0]], r4, root)
    with pytest.raises(ProofLengthError):
        merkle.verify_consistency(4, 10, [], r4, root)
    with pytest.raises(ProofLengthError):
        merkle.verify_consistency(10, 10, [root], root, root)
    with pytest.raises(RootMismatchError) as info:
        merkle.verify_consistency(10, 10, [], r4, root)
    assert info.value.expected == r4 and info.value.computed == root
    with pytest.raises(MalformedInputError):
        merkle.verify_consistency(4, 10, [c[:-1] for c in cproof], r4, root)


def test_root_mismatch_says_expected_and_computed() -> None:
    tree = merkle.MemoryTree.of(data(5))
    proof = merkle.inclusion_proof(2, 5, tree.read)
    wrong = bytes(32)
    with pytest.raises(RootMismatchError) as info:
        merkle.verify_inclusion(2, 5, tree.leaves[2], proof, wrong)
    assert info.value.expected == wrong
    assert info.value.computed == tree.root()
    assert wrong.hex() in str(info.value)

"""RFC 9162 Merkle tree hashing, proof construction and pure proof verification.

Hashes are SHA-256 with a 0x00 prefix for leaves and 0x01 for interior nodes. Proof
construction is written against a *node reader*: a function that returns the stored
hashes of perfect, aligned subtrees ``(level, index)`` (leaves are level 0). A proof needs
O(log n) of them, so a stored tree never recomputes whole subtrees; an in-memory list of
leaf hashes is just one more node reader (:class:`MemoryTree`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from foodtrace.trace.errors import (
    MalformedInputError,
    ProofLengthError,
    RootMismatchError,
    VerificationError,
)

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "Node",
    "VerificationError",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_nodes",
    "root",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]

Node = tuple[int, int]
"""A perfect aligned subtree (level, index): leaves [index << level, (index + 1) << level)."""

NodeReader = Callable[[Sequence[Node]], Sequence[bytes]]
"""Returns the hashes of the given perfect subtrees, in the order asked."""


def leaf_hash(data: bytes) -> bytes:
    """MTH of a single leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree head of a list of leaf hashes (the empty tree hashes to SHA-256(""))."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Fold a compact range left to right: O(n) hashing, O(log n) memory.
    stack: list[tuple[int, bytes]] = []
    for h in leaf_hashes:
        level, cur = 0, h
        while stack and stack[-1][0] == level:
            cur = node_hash(stack.pop()[1], cur)
            level += 1
        stack.append((level, cur))
    return _fold_right([h for _, h in stack])


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def perfect_nodes(begin: int, end: int) -> list[Node]:
    """Decompose leaves ``[begin, end)`` into the fewest perfect aligned subtrees, left to right."""
    nodes: list[Node] = []
    while begin < end:
        level = (begin & -begin).bit_length() - 1 if begin else (end - begin).bit_length() - 1
        while begin + (1 << level) > end:
            level -= 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


@dataclass(frozen=True)
class _Plan:
    """Which subtree hashes a proof needs: one entry per proof element, each a list of
    perfect nodes whose right fold is that element."""

    elements: list[list[Node]] = field(default_factory=list)

    def add(self, begin: int, end: int) -> None:
        self.elements.append(perfect_nodes(begin, end))

    def nodes(self) -> list[Node]:
        return [n for element in self.elements for n in element]

    def resolve(self, read: NodeReader) -> list[bytes]:
        wanted = self.nodes()
        hashes = dict(zip(wanted, read(wanted), strict=True))
        return [_fold_right([hashes[n] for n in element]) for element in self.elements]


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedInputError(f"{name} must be a non-negative integer, got {value!r}")


def _inclusion_plan(index: int, size: int) -> _Plan:
    _check_size("leaf_index", index)
    _check_size("tree_size", size)
    if index >= size:
        raise MalformedInputError(f"leaf_index {index} is not below tree_size {size}")
    plan = _Plan()
    # RFC 9162 PATH(m, D[begin:end]), unrolled; elements are collected leaf-to-root.
    begin, end, path = 0, size, []
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            path.append((begin + k, end))
            end = begin + k
        else:
            path.append((begin, begin + k))
            begin += k
    for b, e in reversed(path):
        plan.add(b, e)
    return plan


def _consistency_plan(size1: int, size2: int) -> _Plan:
    _check_size("size1", size1)
    _check_size("size2", size2)
    if size1 > size2:
        raise MalformedInputError(f"size1 {size1} is larger than size2 {size2}")
    plan = _Plan()
    if size1 == 0 or size1 == size2:
        return plan
    # RFC 9162 SUBPROOF(m, D[begin:end], b), unrolled.
    begin, end, m, complete, path = 0, size2, size1, True, []
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            path.append((begin + k, end))
            end = begin + k
        else:
            path.append((begin, begin + k))
            begin += k
            m -= k
            complete = False
    if not complete:
        path.append((begin, end))
    for b, e in reversed(path):
        plan.add(b, e)
    return plan


def inclusion_nodes(index: int, size: int) -> list[Node]:
    """The perfect subtrees an inclusion proof for (index, size) is built from."""
    return _inclusion_plan(index, size).nodes()


def consistency_nodes(size1: int, size2: int) -> list[Node]:
    """The perfect subtrees a consistency proof for (size1, size2) is built from."""
    return _consistency_plan(size1, size2).nodes()


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """RFC 9162 inclusion proof (audit path) for leaf ``index`` in the tree of ``size`` leaves."""
    return _inclusion_plan(index, size).resolve(read)


def consistency_proof(size1: int, size2: int, read: NodeReader) -> list[bytes]:
    """RFC 9162 consistency proof between the trees of ``size1`` and ``size2`` leaves."""
    return _consistency_plan(size1, size2).resolve(read)


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        got = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise MalformedInputError(f"{name} must be {HASH_SIZE} bytes, got {got}")


def _inner_border(index: int, size: int) -> tuple[int, int]:
    """Split a proof length into the inner part (below the right border) and the border."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def root_from_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root implied by a leaf hash and its audit path (raises on malformed input)."""
    _check_size("leaf_index", leaf_index)
    _check_size("tree_size", tree_size)
    if leaf_index >= tree_size:
        raise MalformedInputError(f"leaf_index {leaf_index} is not below tree_size {tree_size}")
    _check_hash("leaf_hash", leaf)
    for i, p in enumerate(proof):
        if type(p) is not bytes or len(p) != HASH_SIZE:  # the common case costs no call
            _check_hash(f"proof[{i}]", p)
    inner, border = _inner_border(leaf_index, tree_size)
    if len(proof) != inner + border:
        raise ProofLengthError(inner + border, len(proof))
    # node_hash inlined: a scan walks a dozen paths of a dozen nodes each
    sha256, acc = hashlib.sha256, bytes(leaf)
    for i in range(inner):
        p = bytes(proof[i])
        acc = sha256(b"\x01" + (p + acc if (leaf_index >> i) & 1 else acc + p)).digest()
    for p in proof[inner:]:
        acc = sha256(b"\x01" + bytes(p) + acc).digest()
    return acc


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree of ``tree_size`` with ``root``.

    Returns None on success; raises a :class:`VerificationError` subclass otherwise.
    """
    _check_hash("root", root)
    computed = root_from_inclusion(leaf_index, tree_size, leaf_hash, proof)
    if computed != bytes(root):
        raise RootMismatchError(bytes(root), computed)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the one of ``size1``/``root1``.

    Returns None on success; raises a :class:`VerificationError` subclass otherwise. A tree
    of size 0 has nothing to be consistent with, so ``size1 = 0`` is malformed input.
    """
    _check_size("size1", size1)
    _check_size("size2", size2)
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)
    if size1 == 0:
        raise MalformedInputError("size1 must be at least 1")
    if size1 > size2:
        raise MalformedInputError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == size2:
        if proof:
            raise ProofLengthError(0, len(proof))
        if bytes(root1) != bytes(root2):
            raise RootMismatchError(bytes(root1), bytes(root2), "root2")
        return
    # The old tree's last leaf, seen from the new tree: its inclusion path, minus the levels
    # where the old tree is a perfect left subtree (those hashes are the seed itself).
    inner, border = _inner_border(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    start = 0 if size1 == 1 << shift else 1
    expected = start + inner + border
    if len(proof) != expected:
        raise ProofLengthError(expected, len(proof))
    seed = bytes(root1) if start == 0 else bytes(proof[0])
    mask = (size1 - 1) >> shift
    hash1 = hash2 = seed
    for i in range(inner):
        p = bytes(proof[start + i])
        if (mask >> i) & 1:
            hash1 = node_hash(p, hash1)
            hash2 = node_hash(p, hash2)
        else:
            hash2 = node_hash(hash2, p)
    for p in proof[start + inner :]:
        hash1 = node_hash(bytes(p), hash1)
        hash2 = node_hash(bytes(p), hash2)
    if hash1 != bytes(root1):
        raise RootMismatchError(bytes(root1), hash1, "root1")
    if hash2 != bytes(root2):
        raise RootMismatchError(bytes(root2), hash2, "root2")


@dataclass
class MemoryTree:
    """A tree held as a list of leaf hashes; the slow, obviously-correct reference and a
    convenient node reader for small trees."""

    leaves: list[bytes] = field(default_factory=list)

    @classmethod
    def of(cls, data: Iterable[bytes]) -> MemoryTree:
        return cls([leaf_hash(d) for d in data])

    def read(self, nodes: Sequence[Node]) -> list[bytes]:
        return [root(self.leaves[i << lvl : (i + 1) << lvl]) for lvl, i in nodes]

    def root(self, size: int | None = None) -> bytes:
        return root(self.leaves[: len(self.leaves) if size is None else size])


class PeriodicTree:
    """A tree of any size whose leaves repeat a block of ``2**level`` distinct leaves
    (``label % i``), so every perfect subtree at or above ``level`` has the same hash: roots
    and proofs of a ten-million-leaf tree cost a few thousand hashes. For gas benchmarks and
    contract fixtures that need real proofs of huge trees."""

    def __init__(self, level: int, label: bytes) -> None:
        self.level = level
        self.block = MemoryTree.of(label % i for i in range(1 << level))
        self.tops = [self.block.root()]
        for _ in range(64):
            self.tops.append(node_hash(self.tops[-1], self.tops[-1]))

    def read(self, nodes: Sequence[Node]) -> list[bytes]:
        out = []
        for lvl, i in nodes:
            if lvl >= self.level:
                out.append(self.tops[lvl - self.level])
            else:
                out.append(self.block.read([(lvl, i % (1 << (self.level - lvl)))])[0])
        return out

    def root(self, size: int) -> bytes:
        return _fold_right(self.read(perfect_nodes(0, size)))

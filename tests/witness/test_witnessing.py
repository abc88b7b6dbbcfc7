"""The witness's rules (C2SP tlog-witness add-checkpoint), on in-memory trees."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace import checkpoint as cp
from foodtrace.trace.merkle import MemoryTree, consistency_proof
from foodtrace.trace.witnessing import AddCheckpoint, Refusal, Seen, judge, parse_request

ORIGIN = "test.foodtrace/log"
KEY = Ed25519PrivateKey.generate()
LOGS = {ORIGIN: [cp.verifier_key(ORIGIN, KEY)]}
TREE = MemoryTree.of(b"entry %d" % i for i in range(40))
FORK = MemoryTree.of(b"forked %d" % i for i in range(40))


def note(tree: MemoryTree, size: int, key: Ed25519PrivateKey = KEY) -> str:
    return cp.sign_checkpoint(cp.Checkpoint(ORIGIN, size, tree.root(size)), ORIGIN, key)


def request(old: int, size: int, tree: MemoryTree = TREE) -> AddCheckpoint:
    proof = consistency_proof(old, size, tree.read) if 0 < old < size else []
    return AddCheckpoint(old, tuple(proof), note(tree, size))


def seen(size: int, tree: MemoryTree = TREE) -> Seen:
    return Seen(size, tree.root(size))


def refusal(req: AddCheckpoint, last: Seen | None, logs: dict[str, list[str]] = LOGS) -> Refusal:
    with pytest.raises(Refusal) as info:
        judge(req, logs, last)
    return info.value


def test_requests_round_trip_through_their_wire_form() -> None:
    req = request(10, 30)
    assert parse_request(req.encode()) == req
    assert req.encode().startswith(b"old 10\n")


def test_first_checkpoint_then_consistent_extensions_are_accepted() -> None:
    assert judge(request(0, 10), LOGS, None).size == 10
    assert judge(request(10, 30), LOGS, seen(10)).size == 30
    assert judge(request(30, 30), LOGS, seen(30)).root == TREE.root(30)


def test_an_old_size_other_than_the_cosigned_one_is_409_with_the_known_size() -> None:
    got = refusal(request(0, 30), seen(10))
    assert (got.status, got.known_size) == (409, 10)
    got = refusal(request(5, 30), None)
    assert (got.status, got.known_size) == (409, 0)


def test_a_fork_is_refused() -> None:
    # Same origin and key, another history: no consistency proof from what the witness saw.
    got = refusal(request(10, 30, FORK), seen(10))
    assert got.status == 422 and "no consistency" in got.reason
    # Same size, another root.
    got = refusal(AddCheckpoint(10, (), note(FORK, 10)), seen(10))
    assert (got.status, got.known_size) == (409, 10) and "fork" in got.reason


def test_unknown_origin_untrusted_key_and_bad_sizes() -> None:
    assert refusal(request(0, 10), None, {"other/log": LOGS[ORIGIN]}).status == 404
    stranger = AddCheckpoint(0, (), note(TREE, 10, Ed25519PrivateKey.generate()))
    assert refusal(stranger, None).status == 403
    assert refusal(AddCheckpoint(31, (), note(TREE, 30)), seen(31)).status == 400
    proof_from_zero = AddCheckpoint(0, (TREE.root(1),), note(TREE, 10))
    assert refusal(proof_from_zero, None).status == 422


@pytest.mark.parametrize(
    "body",
    [
        b"old 01\n\n",
        b"old 1\nnot base64!\n\n",
        b"old 1\nAAAA\n\n",
        b"old 1\n",
        b"\xff\xfe",
        ("old 1\n" + "\n".join(["A" * 43 + "="] * 64) + "\n\n").encode(),
    ],
    ids=["leading-zero", "not-base64", "short-hash", "no-blank-line", "not-utf8", "64-lines"],
)
def test_malformed_requests_are_400(body: bytes) -> None:
    with pytest.raises(Refusal) as info:
        parse_request(body)
    assert info.value.status == 400

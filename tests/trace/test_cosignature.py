"""cosignature/v1 (C2SP tlog-cosignature): golden vectors, mutations, quorums."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace import checkpoint as cp
from foodtrace.trace import cosignature as cs
from foodtrace.trace.cosignature import CosignatureError

V = json.loads((Path(__file__).parent / "data" / "cosignature_vectors.json").read_text())
W1, W2 = V["witnesses"]
NOTE = V["log"]["note"]
BODY = NOTE.split("\n\n")[0] + "\n"


def key(vector: dict[str, str]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["seed"]))


def test_we_cosign_byte_for_byte_like_the_golden_vectors() -> None:
    for w in (W1, W2):
        assert cs.cosigner_vkey(w["name"], key(w)) == w["vkey"]
        assert cs.signed_message(BODY, w["timestamp"]).decode() == w["message"]
        assert cs.cosign(BODY, w["name"], key(w), w["timestamp"]) == w["line"]


def test_the_spec_example_line_parses_to_its_key_id_and_timestamp() -> None:
    ex = V["spec_example"]
    blob = base64.b64decode(ex["line"].rpartition(" ")[2])
    assert len(blob) == 76
    assert blob[:4].hex() == ex["key_id"]
    assert struct.unpack(">Q", blob[4:12])[0] == ex["timestamp"]


def test_a_cosigned_checkpoint_verifies_with_both_witnesses() -> None:
    note = cs.add_cosignatures(NOTE, [W1["line"], W2["line"]])
    checkpoint, got = cs.verify_cosigned_checkpoint(
        note, [V["log"]["vkey"]], [W1["vkey"], W2["vkey"]], required=2
    )
    assert checkpoint.size == 20852163
    assert got == [
        cs.Cosignature(W1["name"], W1["timestamp"]),
        cs.Cosignature(W2["name"], W2["timestamp"]),
    ]
    # The log's own verification ignores the witnesses' lines, as signed-note asks.
    assert cp.verify_checkpoint(note, [V["log"]["vkey"]]).size == 20852163


def test_adding_cosignatures_twice_keeps_one_line_each() -> None:
    once = cs.add_cosignatures(NOTE, [W1["line"]])
    assert cs.add_cosignatures(once, [W1["line"], W1["line"]]) == once
    assert once.count("\n— ") == 2


def flip(line: str, at: int) -> str:
    head, _, b64 = line.rstrip("\n").rpartition(" ")
    blob = bytearray(base64.b64decode(b64))
    blob[at] ^= 0x01
    return f"{head} {base64.b64encode(bytes(blob)).decode()}\n"


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda line: flip(line, 75), "does not verify"),  # the signature
        (lambda line: flip(line, 11), "does not verify"),  # the timestamp
        (lambda line: line.rstrip("\n")[:-8] + "\n", "76"),  # truncated
    ],
    ids=["signature", "timestamp", "truncated"],
)
def test_a_mutated_cosignature_by_a_known_witness_is_refused(mutate: object, error: str) -> None:
    assert callable(mutate)
    note = cs.add_cosignatures(NOTE, [mutate(W1["line"])])
    with pytest.raises(CosignatureError, match=error):
        cs.cosignatures(note, [W1["vkey"]])


def test_a_cosignature_on_another_checkpoint_does_not_verify() -> None:
    other = NOTE.replace("20852163", "20852164")
    with pytest.raises(CosignatureError, match="does not verify"):
        cs.cosignatures(cs.add_cosignatures(other, [W1["line"]]), [W1["vkey"]])


def test_lines_by_unknown_keys_are_ignored_and_the_quorum_counts_only_named_witnesses() -> None:
    stranger = Ed25519PrivateKey.generate()
    line = cs.cosign(BODY, W2["name"], stranger, 1)  # W2's name, another key
    note = cs.add_cosignatures(NOTE, [W1["line"], line])
    assert [c.name for c in cs.cosignatures(note, [W1["vkey"], W2["vkey"]])] == [W1["name"]]
    with pytest.raises(CosignatureError, match="1 of the 2 required"):
        cs.require_cosignatures(note, [W1["vkey"], W2["vkey"]], 2)
    with pytest.raises(CosignatureError, match="only 1 named"):
        cs.require_cosignatures(note, [W1["vkey"]], 2)


def test_a_cosignature_dated_in_the_future_is_refused_when_now_is_given() -> None:
    note = cs.add_cosignatures(NOTE, [W1["line"]])
    assert cs.cosignatures(note, [W1["vkey"]], now=W1["timestamp"])
    with pytest.raises(CosignatureError, match="future"):
        cs.cosignatures(note, [W1["vkey"]], now=W1["timestamp"] - 1)


def test_witness_keys_are_checked() -> None:
    log_vkey = V["log"]["vkey"]
    with pytest.raises(CosignatureError, match="type 0x04"):
        cs.parse_cosigner_vkey(log_vkey)  # a log key (type 0x01) is not a witness key
    name, _, blob = W1["vkey"].split("+", 2)
    with pytest.raises(CosignatureError, match="key ID"):
        cs.parse_cosigner_vkey(f"{name}+00000000+{blob}")
    with pytest.raises(CosignatureError, match="out of range"):
        cs.signed_message(BODY, 2**63)
    with pytest.raises(ValueError, match="no spaces"):
        cs.cosigner_vkey("bad name", key(W1))

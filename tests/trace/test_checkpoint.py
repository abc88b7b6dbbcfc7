"""C2SP checkpoints and signed notes, including the Go reference implementation's vector."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace import checkpoint as cp
from foodtrace.trace import keys
from foodtrace.trace.errors import CheckpointError

GO = json.loads((Path(__file__).parent / "data" / "signed_note_go.json").read_text())


def go_private_key() -> Ed25519PrivateKey:
    # PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed)
    blob = base64.b64decode(GO["signer_key"].split("+", 4)[4])
    assert blob[0] == cp.ALG_ED25519
    return Ed25519PrivateKey.from_private_bytes(blob[1:])


def test_go_reference_note_verifies() -> None:
    body, name = cp.verify_note(GO["note"], [GO["verifier_key"]])
    assert body == GO["text"] and name == "PeterNeumann"


def test_we_sign_byte_for_byte_like_the_go_reference() -> None:
    key = go_private_key()
    assert cp.verifier_key("PeterNeumann", key) == GO["verifier_key"]
    assert cp.sign_note(GO["text"], "PeterNeumann", key) == GO["note"]


def test_go_note_altered_is_refused() -> None:
    with pytest.raises(CheckpointError, match="does not verify"):
        cp.verify_note(GO["note"].replace("cryptography", "cryptographY"), [GO["verifier_key"]])


def test_checkpoint_round_trip_and_extensions() -> None:
    key = keys.generate()
    c = cp.Checkpoint("example.com/log", 42, bytes(range(32)), ("ext line",))
    note = cp.sign_checkpoint(c, "example.com/log", key)
    assert note.startswith("example.com/log\n42\n")
    got = cp.verify_checkpoint(note, [cp.verifier_key("example.com/log", key)])
    assert got == c


def test_checkpoint_of_another_c2sp_log_verifies() -> None:
    # A checkpoint signed by a foreign signer (the Go vector's key), with a cosignature by
    # a key we do not know: unknown signatures are ignored, the trusted one suffices.
    body = "go.example/tree\n7\n" + base64.b64encode(b"\x11" * 32).decode() + "\n"
    note = cp.sign_note(body, "PeterNeumann", go_private_key())
    witness = cp.sign_note(body, "witness.example", keys.generate())
    note = note + witness.split("\n\n", 1)[1]
    got = cp.verify_checkpoint(note, [GO["verifier_key"]])
    assert (got.origin, got.size, got.root) == ("go.example/tree", 7, b"\x11" * 32)


def test_untrusted_or_wrong_signatures_are_refused() -> None:
    key, other = keys.generate(), keys.generate()
    note = cp.sign_checkpoint(cp.Checkpoint("o", 1, bytes(32)), "o", key)
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        cp.verify_checkpoint(note, [cp.verifier_key("o", other)])
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        cp.verify_checkpoint(note, [cp.verifier_key("other-name", key)])
    tampered = note.replace("\n1\n", "\n2\n", 1)
    with pytest.raises(CheckpointError, match="does not verify"):
        cp.verify_checkpoint(tampered, [cp.verifier_key("o", key)])


@pytest.mark.parametrize(
    "note",
    [
        "o\n1\nAAAA\n\n— o AAAAAAAA\n",  # root too short (and a bogus signature)
        "o\n1\n",  # no signatures
        "no trailing newline",
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\nnot a signature line\n",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(CheckpointError):
        cp.verify_checkpoint(note, [cp.verifier_key("o", keys.generate())])


def test_malformed_body_after_valid_signature() -> None:
    key = keys.generate()
    for body in ("o\nx\nAA==\n", "o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n"):
        note = cp.sign_note(body, "o", key)
        with pytest.raises(CheckpointError):
            cp.verify_checkpoint(note, [cp.verifier_key("o", key)])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key id
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # mangled key
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        cp.parse_verifier_key(vkey)

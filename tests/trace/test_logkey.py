"""The log key hash the chain pins: one definition, the same from every encoding of the key."""

from __future__ import annotations

import base64
import hashlib

import pytest

from foodtrace.trace import keys
from foodtrace.trace.checkpoint import parse_verifier_key, verifier_key
from foodtrace.trace.errors import CheckpointError
from foodtrace.trace.logkey import NO_KEY, announced_keys, check_log_key, log_key_hash


def test_hash_is_sha256_of_the_raw_public_key_in_every_form() -> None:
    key = keys.generate()
    raw = keys.public_bytes(key)
    vkey = verifier_key("foodtrace.test/log", key)
    assert base64.b64decode(vkey.split("+", 2)[2])[1:] == raw  # the bytes after 0x01
    expected = hashlib.sha256(raw).digest()
    forms = (vkey, parse_verifier_key(vkey), key, key.public_key())
    assert {log_key_hash(form) for form in forms} == {expected}


def test_check_log_key_accepts_the_pinned_key_only() -> None:
    key, other = keys.generate(), keys.generate()
    vkey = verifier_key("foodtrace.test/log", key)
    check_log_key(vkey, log_key_hash(key))
    with pytest.raises(CheckpointError, match="log key mismatch"):
        check_log_key(vkey, log_key_hash(other))
    with pytest.raises(CheckpointError, match="pins no key"):
        check_log_key(vkey, NO_KEY)


def test_announced_keys_follow_the_chains_rotations_from_the_pin() -> None:
    k0, k1, k2, stranger = (log_key_hash(keys.generate()) for _ in range(4))
    rotations = [(k0, k1), (k1, k2)]
    assert announced_keys(k0, rotations, k2) == [k0, k1, k2]
    assert announced_keys(k1, rotations, k2) == [k1, k2]
    assert announced_keys(k2, rotations, k2) == [k2]
    assert announced_keys(k0, [], k0) == [k0]
    with pytest.raises(CheckpointError, match="never pinned"):
        announced_keys(stranger, rotations, k2)
    with pytest.raises(CheckpointError, match="does not link"):
        announced_keys(k0, [(k0, k1), (stranger, k2)], k2)
    with pytest.raises(CheckpointError, match="ends at"):
        announced_keys(k0, rotations, k1)  # the events and the contract's state disagree
    with pytest.raises(CheckpointError, match="pins no key"):
        announced_keys(k0, rotations, NO_KEY)

"""Entries: canonical bytes, signatures, and strict parsing that names every problem."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import rfc8785

from foodtrace.trace import entry, keys
from foodtrace.trace.errors import EntryError, SignatureError

KEY = keys.generate()
OTHER = keys.generate()


def make(**body: object) -> entry.Entry:
    return entry.sign(KEY, type="lot", author="party-1", body=body or {"lot": "L1"})


def lookup_for(key: object) -> entry.KeyLookup:
    def lookup(author: str, key_id: str, at: datetime) -> object:
        if author != "party-1" or key_id != keys.key_id(key):  # type: ignore[arg-type]
            raise SignatureError(f"author {author} has no key {key_id}")
        return keys.public_bytes(key) and key.public_key()  # type: ignore[attr-defined]

    return lookup  # type: ignore[return-value]


def test_signed_bytes_are_jcs_of_envelope_without_sig() -> None:
    e = make(b=2, a="食安")
    assert e.signed_bytes() == rfc8785.dumps(e.unsigned())
    assert b'"sig"' not in e.signed_bytes()
    assert json.loads(e.leaf_data())["sig"] == e.sig
    # JCS sorts keys and keeps non-ASCII as UTF-8.
    assert e.signed_bytes().index(b'"a"') < e.signed_bytes().index(b'"b"')
    assert "食安".encode() in e.signed_bytes()


def test_round_trip_and_verify() -> None:
    e = make()
    parsed = entry.loads(e.leaf_data())
    assert parsed == e
    entry.verify(parsed, lookup_for(KEY))
    assert parsed.leaf_hash() == e.leaf_hash()


def test_bad_signature_is_rejected() -> None:
    e = make()
    forged = entry.Entry(e.type, e.author, e.key, e.issued_at, {"lot": "L2"}, e.sig)
    with pytest.raises(SignatureError, match="does not verify"):
        entry.verify(forged, lookup_for(KEY))


def test_signature_by_another_key_is_rejected() -> None:
    e = entry.sign(OTHER, type="lot", author="party-1", body={"lot": "L1"})
    with pytest.raises(SignatureError, match="has no key"):
        entry.verify(e, lookup_for(KEY))
    with pytest.raises(SignatureError, match="not the key"):
        entry.verify_signature(e, KEY.public_key())


def test_unknown_fields_and_every_problem_are_named() -> None:
    raw = json.loads(make().leaf_data())
    raw["extra"] = 1
    raw["v"] = 2
    raw["issued_at"] = "yesterday"
    del raw["body"]
    with pytest.raises(EntryError) as info:
        entry.validate(raw)
    fields = {f for f, _ in info.value.problems}
    assert fields == {"extra", "v", "issued_at", "body"}
    assert "not an envelope field" in str(info.value)


def test_malformed_json_and_duplicates() -> None:
    with pytest.raises(EntryError, match="not valid JSON"):
        entry.loads(b"{not json")
    with pytest.raises(EntryError, match="duplicate key"):
        entry.loads(b'{"v":1,"v":1}')
    with pytest.raises(EntryError, match="must be a JSON object"):
        entry.loads(b"[1,2]")


def test_oversized_entry_is_rejected() -> None:
    e = make(blob="x" * entry.MAX_ENTRY_BYTES)
    with pytest.raises(EntryError, match="limit is"):
        entry.loads(e.leaf_data())


def test_malformed_sig_is_named() -> None:
    raw = json.loads(make().leaf_data())
    raw["sig"] = "AAAA"
    with pytest.raises(EntryError) as info:
        entry.validate(raw)
    assert [f for f, _ in info.value.problems] == ["sig"]


def test_non_canonicalisable_body_is_rejected() -> None:
    raw = json.loads(make().leaf_data())
    raw["body"] = {"n": 2**60}  # beyond IEEE 754 exact integers: RFC 8785 refuses it
    with pytest.raises(EntryError, match="canonicalised"):
        entry.validate(raw)

"""An entry keeps the canonical bytes it was validated or signed with: the same bytes a
fresh RFC 8785 pass gives, and invisible to equality and dataclass fields."""

from __future__ import annotations

import dataclasses

import rfc8785

from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys


def test_kept_bytes_are_the_canonical_ones() -> None:
    key = keys.generate()
    body = {"z": 1.5, "a": ["食安", {"b": True}], "n": 10**15}
    signed = entry_mod.sign(key, type="lot", author="p-1", body=body)
    assert signed.signed_bytes() == rfc8785.dumps(signed.unsigned())
    assert signed.leaf_data() == rfc8785.dumps({**signed.unsigned(), "sig": signed.sig})
    parsed = entry_mod.loads(signed.leaf_data())
    assert parsed == signed and parsed.leaf_data() == signed.leaf_data()
    assert parsed.signed_bytes() == signed.signed_bytes()
    entry_mod.verify_signature(parsed, key.public_key())
    assert [f.name for f in dataclasses.fields(parsed)] == [
        "type",
        "author",
        "key",
        "issued_at",
        "body",
        "sig",
    ]
    # a replaced entry computes its own bytes, not the original's
    other = dataclasses.replace(signed, body={"x": 1})
    assert other.signed_bytes() == rfc8785.dumps(other.unsigned()) != signed.signed_bytes()


def test_entries_parsed_without_the_canonical_check_still_hash_as_rfc8785() -> None:
    """The scanner parses served entries with ``check_canonical=False`` and hashes them: the
    C encoder's bytes when it is exact (no floats, safe integers, BMP keys), the reference
    library's otherwise, and the same bytes either way."""
    key = keys.generate()
    bodies = [
        {"lot": "SG1", "n": 2**53 - 1, "t": 'a"\\\n\x01\u2028', "x": ["食安", None, False]},
        {"temp": -18.5, "big": 1e21},  # floats: the reference path (ES6 number format)
        {"\U0001f600": 1, "\uffff": 2},  # keys ordered by UTF-16 code units
    ]
    for body in bodies:
        signed = entry_mod.sign(key, type="lot", author="p-1", body=body)
        text = rfc8785.dumps({**signed.unsigned(), "sig": signed.sig}).decode()
        parsed = entry_mod.loads(text, check_canonical=False)
        assert parsed.leaf_data() == rfc8785.dumps({**parsed.unsigned(), "sig": parsed.sig})
        assert parsed.signed_bytes() == rfc8785.dumps(parsed.unsigned())
        entry_mod.verify_signature(parsed, key.public_key())

"""``--witness`` / ``--witnesses-required``: parsed into cosigner keys, or a usage error."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.scanner.cli import UsageError, _witness_keys
from foodtrace.trace.cosignature import cosigner_vkey

VKEY = cosigner_vkey("w1.example/w", Ed25519PrivateKey.generate())


def test_a_bare_key_and_name_equals_key_give_the_same_key() -> None:
    assert _witness_keys([VKEY, f"w1.example/w={VKEY}"], 2) == [VKEY, VKEY]


@pytest.mark.parametrize(
    ("values", "required", "error"),
    [
        ([f"other.example/w={VKEY}"], 1, "is named"),
        (["not-a-key"], 0, "malformed"),
        ([VKEY], 2, "but 1 --witness"),
    ],
)
def test_bad_witness_options_are_usage_errors(values: list[str], required: int, error: str) -> None:
    with pytest.raises(UsageError, match=error):
        _witness_keys(values, required)

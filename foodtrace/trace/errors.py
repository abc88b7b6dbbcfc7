"""Typed errors of the verification path.

Verifiers raise; they never return a bare ``False`` that a caller can forget to check.
Every failure is a :class:`VerificationError`, and the subclasses say which check failed.
"""

from __future__ import annotations


class VerificationError(Exception):
    """A proof, signature or checkpoint did not verify, or its input was malformed."""


class MalformedInputError(VerificationError):
    """The input to a verifier is not well formed (bad hash length, index out of range, ...)."""


class ProofLengthError(MalformedInputError):
    """A proof has more or fewer elements than its (index, size) or (size1, size2) require."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"proof has {got} hashes, expected {expected}")
        self.expected = expected
        self.got = got


class RootMismatchError(VerificationError):
    """The root computed from a proof is not the root that was expected."""

    def __init__(self, expected: bytes, computed: bytes, what: str = "root") -> None:
        super().__init__(f"{what} mismatch: expected {expected.hex()}, computed {computed.hex()}")
        self.expected = expected
        self.computed = computed


class SignatureError(VerificationError):
    """A signature does not verify against the key it names, or names no known key."""


class CheckpointError(VerificationError):
    """A checkpoint note is malformed or carries no signature by a trusted key."""


class EntryError(ValueError):
    """An entry was rejected before it reached the log; ``problems`` names every field."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in problems))

"""The log key's countersignature of a platform key: a signed note, checked by a scanner with
the log key it pins (pure: no database, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace.checkpoint import VerifierKey, sign_note, verify_note
from foodtrace.trace.errors import VerificationError

REGISTER_TYPE = "platform.key.register"
NOTE_HEADER = "foodtrace platform key"


class PlatformNoteError(ValueError):
    """The countersignature does not name this key or is not the log key's."""


def note_body(origin: str, author: str, public_key: str) -> str:
    """What the log key signs: the log it speaks for, the platform's author id and key."""
    return f"{NOTE_HEADER}\n{origin}\n{author}\n{public_key}\n"


def countersign(origin: str, author: str, public_key: str, log_key: Ed25519PrivateKey) -> str:
    return sign_note(note_body(origin, author, public_key), origin, log_key)


def check_note(
    note: str, author: str, public_key: str, log_keys: Iterable[str | VerifierKey]
) -> str:
    """Raise :class:`PlatformNoteError` unless one of ``log_keys`` signed a note naming
    ``public_key`` as ``author``'s key; returns the signer's name (the log's origin)."""
    try:
        body, name = verify_note(note, list(log_keys))
    except (VerificationError, ValueError) as exc:
        raise PlatformNoteError(f"the log key's countersignature: {exc}") from exc
    if body != note_body(name, author, public_key):
        raise PlatformNoteError(
            f"the log key's countersignature does not name key {public_key} of {author}"
        )
    return name

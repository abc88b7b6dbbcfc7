"""Log entries: the signed envelope every write becomes.

An entry is ``{"v":1,"type":…,"author":…,"key":…,"issued_at":RFC3339,"body":{…}}``. The
author signs the RFC 8785 (JCS) canonical JSON of that object with Ed25519; the leaf data
is the JCS of the entry with its ``"sig"`` (base64) added. Parsing is strict: unknown
envelope fields, duplicate JSON keys, oversized entries and malformed values are refused
with every problem named.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foodtrace.trace import canonical, keys
from foodtrace.trace.errors import EntryError, SignatureError
from foodtrace.trace.merkle import leaf_hash

VERSION = 1
MAX_ENTRY_BYTES = 64 * 1024
ENVELOPE_FIELDS = ("v", "type", "author", "key", "issued_at", "body")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_KEY_RE = re.compile(r"^[0-9a-f]{16}$")
_RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")

KeyLookup = Callable[[str, str, datetime], Ed25519PublicKey]
"""``(author, key_id, issued_at) -> public key``; raises :class:`SignatureError` when the
author has no such key, or the key was not valid at ``issued_at``."""


@dataclass(frozen=True)
class Entry:
    """A parsed, well-formed entry. ``sig`` is empty until the entry is signed.

    Its canonical bytes are computed once and kept (outside the dataclass fields, so
    equality, ``replace`` and ``fields`` ignore them): one write signs, verifies, hashes and
    stores each entry, and RFC 8785 of a large body costs about a millisecond each time.
    The body is treated as immutable, like the rest of the entry."""

    type: str
    author: str
    key: str
    issued_at: str
    body: Mapping[str, Any]
    sig: str = ""

    def unsigned(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "type": self.type,
            "author": self.author,
            "key": self.key,
            "issued_at": self.issued_at,
            "body": self.body,
        }

    def signed_bytes(self) -> bytes:
        """The bytes the author signs: JCS of the envelope without ``sig``."""
        cached: bytes | None = self.__dict__.get("_signed")
        if cached is None:
            cached = canonical.dumps(self.unsigned(), self.__dict__.get("_simple", False))
            _keep(self, signed=cached)
        return cached

    def leaf_data(self) -> bytes:
        """The bytes hashed into the log: JCS of the envelope with ``sig``."""
        if not self.sig:
            raise SignatureError("entry is not signed")
        cached: bytes | None = self.__dict__.get("_leaf")
        if cached is None:
            simple = self.__dict__.get("_simple", False)
            cached = canonical.dumps({**self.unsigned(), "sig": self.sig}, simple)
            _keep(self, leaf=cached)
        return cached

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf_data())

    def issued_datetime(self) -> datetime:
        return parse_time(self.issued_at)


def _keep(
    entry: Entry,
    *,
    signed: bytes | None = None,
    leaf: bytes | None = None,
    simple: bool = False,
) -> Entry:
    """Remember canonical bytes already computed for ``entry`` (frozen: set past it), and
    whether the fast JCS encoder is exact for it (``simple``, from :func:`canonical.loads`
    of the very value: an entry parsed from text canonicalises with the C encoder)."""
    if simple:
        object.__setattr__(entry, "_simple", True)
    if signed is not None:
        object.__setattr__(entry, "_signed", signed)
    if leaf is not None:
        object.__setattr__(entry, "_leaf", leaf)
    return entry


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sign(
    private_key: Ed25519PrivateKey,
    *,
    type: str,
    author: str,
    body: Mapping[str, Any],
    issued_at: str | None = None,
) -> Entry:
    """Build and sign an entry; the key id is derived from the key itself."""
    draft = validate(
        {
            "v": VERSION,
            "type": type,
            "author": author,
            "key": keys.key_id(private_key),
            "issued_at": issued_at or now_rfc3339(),
            "body": dict(body),
        },
        require_sig=False,
    )
    signed = draft.signed_bytes()
    sig = base64.b64encode(private_key.sign(signed)).decode()
    return _keep(
        Entry(draft.type, draft.author, draft.key, draft.issued_at, draft.body, sig), signed=signed
    )


def verify_signature(entry: Entry, public_key: Ed25519PublicKey) -> None:
    """Raise :class:`SignatureError` unless ``entry.sig`` is the key's signature of it."""
    if keys.key_id(public_key) != entry.key:
        raise SignatureError(f"key {entry.key} is not the key that was given")
    try:
        sig = base64.b64decode(entry.sig, validate=True)
        public_key.verify(sig, entry.signed_bytes())
    except (ValueError, InvalidSignature) as exc:
        raise SignatureError(
            f"signature of author {entry.author} with key {entry.key} does not verify"
        ) from exc


def verify(entry: Entry, lookup: KeyLookup) -> None:
    """Verify an entry's signature with the author's key as it stood at ``issued_at``."""
    verify_signature(entry, lookup(entry.author, entry.key, entry.issued_datetime()))


def loads(raw: bytes | str, *, require_sig: bool = True, check_canonical: bool = True) -> Entry:
    """Parse one entry from JSON text, refusing anything not exactly an entry
    (``check_canonical`` as for :func:`validate`)."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_ENTRY_BYTES:
        raise EntryError([("entry", f"is {size} bytes, the limit is {MAX_ENTRY_BYTES}")])
    try:
        obj, simple = canonical.loads(raw)  # duplicate keys refused
    except (ValueError, UnicodeDecodeError) as exc:
        raise EntryError([("entry", f"is not valid JSON: {exc}")]) from exc
    return validate(obj, require_sig=require_sig, check_canonical=check_canonical, simple=simple)


def validate(
    obj: Any, *, require_sig: bool = True, check_canonical: bool = True, simple: bool = False
) -> Entry:
    """Check a decoded JSON value against the envelope; raise :class:`EntryError` with all
    problems found. ``check_canonical=False`` skips the RFC 8785 check, for callers that
    canonicalise the value themselves right after (bulk ingest), so it is not done twice.
    ``simple`` comes only from :func:`canonical.loads` of ``obj``: the fast encoder is exact."""
    if not isinstance(obj, dict):
        raise EntryError([("entry", f"must be a JSON object, got {type(obj).__name__}")])
    problems: list[tuple[str, str]] = []
    allowed = {*ENVELOPE_FIELDS, "sig"}
    problems += [(k, "is not an envelope field") for k in sorted(set(obj) - allowed)]
    required = ENVELOPE_FIELDS + (("sig",) if require_sig else ())
    problems += [(k, "is required") for k in required if k not in obj]

    def check(name: str, ok: bool, expected: str) -> None:
        if name in obj and not ok:
            problems.append((name, f"expected {expected}, got {obj[name]!r:.80}"))

    check("v", obj.get("v") == VERSION and type(obj.get("v")) is int, f"the integer {VERSION}")
    check("type", _str_match(obj.get("type"), _TYPE_RE), "a lower-case type name like 'lot'")
    check("author", _str_match(obj.get("author"), _ID_RE), "a party id (1-128 of A-Za-z0-9_.:-)")
    check("key", _str_match(obj.get("key"), _KEY_RE), "a key id of 16 lower-case hex digits")
    check("issued_at", _is_time(obj.get("issued_at")), "an RFC 3339 timestamp with offset")
    check("body", isinstance(obj.get("body"), dict), "a JSON object")
    check("sig", _is_sig(obj.get("sig")), "a base64 Ed25519 signature (64 bytes)")
    canonical_bytes: bytes | None = None
    if not problems and check_canonical:
        try:
            canonical_bytes = canonical.dumps(obj, simple)
        except rfc8785.CanonicalizationError as exc:
            problems.append(("body", f"cannot be canonicalised (RFC 8785): {exc}"))
    if problems:
        raise EntryError(problems)
    sig = obj.get("sig", "")
    entry = Entry(
        type=obj["type"],
        author=obj["author"],
        key=obj["key"],
        issued_at=obj["issued_at"],
        body=obj["body"],
        sig=sig,
    )
    # the check's bytes are the entry's own: its signed bytes, or with a sig its leaf data
    if sig:
        return _keep(entry, leaf=canonical_bytes, simple=simple)
    return _keep(entry, signed=canonical_bytes, simple=simple)


def _str_match(value: Any, pattern: re.Pattern[str]) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None


def _is_time(value: Any) -> bool:
    if not _str_match(value, _RFC3339_RE):
        return False
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def _is_sig(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == 64
    except ValueError:
        return False


def dumps(entry: Entry) -> str:
    """The entry as canonical JSON text (with ``sig`` when signed)."""
    data = entry.leaf_data() if entry.sig else entry.signed_bytes()
    return data.decode()

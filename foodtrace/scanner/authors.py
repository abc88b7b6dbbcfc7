"""The author's key behind a record: from its logged registration, never from our word.

A record's signature is checked with the key its author registered: a ``party.register`` or
``party.key.register`` entry, verified to the chain like any record and signed by its
registrar's key, established the same way, up to the regulator's self-signed registration.
A revocation is a logged entry too: the one the server names is proved, and with the log's
own revocations (:mod:`foodtrace.scanner.revocations`) a revocation the server leaves out is
caught. A key revoked in entry M signs nothing logged after M, whatever date it claims.

The platform's own key (recall notices, code acknowledgements, complaints) is registered by
a ``platform.key.register`` entry: self-signed, and countersigned by the log key, which the
scanner pins (:mod:`foodtrace.trace.platform_note`); a self-signed registration without the log
key's countersignature is not the platform's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from foodtrace.scanner.client import Resolved, Server, ServerError
from foodtrace.scanner.revocations import REVOKE, LogRevocations
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry
from foodtrace.trace.errors import VerificationError
from foodtrace.trace.platform_note import REGISTER_TYPE, PlatformNoteError, check_note
from foodtrace.trace.verify import StepError

KEY_TYPES = ("party.register", "party.key.register", REGISTER_TYPE)
MAX_KEY_DEPTH = 4  # author → registrar → ... → the regulator's self-signed registration


class AuthorKeyError(VerificationError):
    """The author's key could not be established from verified log entries."""


@dataclass(frozen=True)
class Revoked:
    """A proved revocation: the entry's index and the time it states."""

    index: int
    issued_at: str


@dataclass(frozen=True)
class AuthorKey:
    public: Ed25519PublicKey
    revoked: Revoked | None
    note: str  # where the key came from, for the report


class Evidence:
    """What the server gave for one code (key lists, record proofs), asking it only for what
    it did not give. Nothing here is trusted: every record is verified by the caller."""

    def __init__(self, server: Server, resolved: Resolved | None = None) -> None:
        self.server = server
        self.resolved = resolved

    def listed(self, party: Callable[[str], dict[str, Any]], author: str, key_id: str) -> Any:
        if self.resolved is not None and (author, key_id) in self.resolved.author_keys:
            return self.resolved.author_keys[(author, key_id)]
        try:
            listed = party(author).get("keys", [])
        except ServerError as exc:  # e.g. the platform, which is no party: 404
            raise AuthorKeyError(f"the server lists no key {key_id} for {author}: {exc}") from exc
        found = [k for k in listed if k.get("key_id") == key_id]
        if not found:
            raise AuthorKeyError(f"the server lists no key {key_id} for {author}")
        return found[0]

    def record(self, index: int) -> dict[str, Any]:
        if self.resolved is not None and index in self.resolved.evidence:
            return self.resolved.evidence[index]
        return self.server.record(index)


VerifyLogged = Callable[[Server, dict[str, Any]], tuple[Entry, int]]
"""A served record through the ledger's steps: the entry and the tree size it was proved in."""


class AuthorKeys:
    """Verified author keys, cached for a run (key registrations and revocations are
    immutable log entries) in ``known``, which the run's scanners with the same pins share.
    ``log_revocations`` (optional) returns the log's own revocations up to a size, to catch
    one the server leaves out."""

    def __init__(
        self,
        verify_logged: VerifyLogged,
        log_revocations: Callable[[Server, int], LogRevocations] | None = None,
        log_keys: Callable[[], list[str]] = list,
        known: dict[tuple[str, str], AuthorKey] | None = None,
    ) -> None:
        self._verify_logged = verify_logged
        self._log_keys = log_keys  # the log keys the chain vouches for (the pin's)
        self._log_revocations = log_revocations
        self._keys = known if known is not None else {}
        self._parties: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def check(self, evidence: Evidence, entry: Entry, index: int | None, size: int) -> str:
        """Raise unless ``entry`` (logged at ``index``, proved in a tree of ``size``) is
        signed by its author's registered key, not revoked before it; returns a note."""
        key = self.key(evidence, entry.author, entry.key, 0)
        self._not_revoked(evidence, entry, index, key, size)
        entry_mod.verify_signature(entry, key.public)
        return f"signed by {entry.author} with key {entry.key} ({key.note})"

    def _not_revoked(
        self, evidence: Evidence, entry: Entry, index: int | None, key: AuthorKey, size: int
    ) -> None:
        revoked = key.revoked
        if revoked is None and self._log_revocations is not None:
            found = self._log_revocations(evidence.server, size).of(entry.author, entry.key)
            if found is not None:
                raise AuthorKeyError(
                    f"the server lists key {entry.key} of {entry.author} as not revoked, but "
                    f"the log revokes it in entry {found.index} (issued {found.issued_at}): "
                    "the server hides a revocation"
                )
        if revoked is None:
            return
        if index is not None and index > revoked.index:
            raise AuthorKeyError(
                f"entry {index} was logged after entry {revoked.index} revoked key "
                f"{entry.key} of {entry.author}"
            )
        if entry_mod.parse_time(revoked.issued_at) <= entry.issued_datetime():
            raise AuthorKeyError(
                f"key {entry.key} of {entry.author} was revoked at {revoked.issued_at}, "
                f"before the entry was issued ({entry.issued_at})"
            )

    def key(self, evidence: Evidence, author: str, key_id: str, depth: int) -> AuthorKey:
        """The author's public key from its verified registration entry, and its proved
        revocation (if the server names one)."""
        cached = self._keys.get((author, key_id))
        if cached is not None:
            return cached
        if depth > MAX_KEY_DEPTH:
            raise AuthorKeyError(f"key chain of {author} is longer than {MAX_KEY_DEPTH}")
        listed = evidence.listed(lambda a: self._party(evidence.server, a), author, key_id)
        reg_index = listed.get("entry_index")
        try:
            reg, size = self._verify_logged(evidence.server, evidence.record(int(reg_index)))
        except (StepError, ServerError, TypeError, ValueError) as exc:
            raise AuthorKeyError(
                f"registration of key {key_id} (entry {reg_index}): {exc}"
            ) from exc
        public = _registered_key(reg, author, key_id, reg_index)
        if reg.type == REGISTER_TYPE:
            note = self._platform_note(reg, public, author, key_id, reg_index)
        elif reg.author == author and reg.key == key_id:
            entry_mod.verify_signature(reg, public)  # self-signed: the regulator's bootstrap
            note = f"key registered in entry {reg_index}, self-signed"
        else:
            registrar = self.key(evidence, reg.author, reg.key, depth + 1)
            self._not_revoked(evidence, reg, int(reg_index), registrar, size)
            entry_mod.verify_signature(reg, registrar.public)
            note = f"key registered in entry {reg_index} by {reg.author}"
        revoked = self._revocation(evidence, listed.get("revoked_entry_index"), author, key_id)
        found = AuthorKey(public, revoked, note)
        self._keys[(author, key_id)] = found
        return found

    def _platform_note(
        self, reg: Entry, public: Ed25519PublicKey, author: str, key_id: str, index: Any
    ) -> str:
        """A platform key: its registration self-signed and countersigned by the log key."""
        if reg.author != author or reg.key != key_id:
            raise AuthorKeyError(f"entry {index} registers a platform key it is not signed by")
        entry_mod.verify_signature(reg, public)
        try:
            check_note(
                str(reg.body.get("log_note", "")), author, reg.body["public_key"], self._log_keys()
            )
        except PlatformNoteError as exc:
            raise AuthorKeyError(f"platform key {key_id} (entry {index}): {exc}") from exc
        return f"platform key registered in entry {index}, countersigned by the log key"

    def _party(self, server: Server, author: str) -> dict[str, Any]:
        """The server's record of ``author`` with its key list: fetched once per run."""
        with self._lock:
            cached = self._parties.get((server.base_url, author))
        if cached is None:
            cached = server.party(author)
            with self._lock:
                self._parties[(server.base_url, author)] = cached
        return cached

    def _revocation(
        self, evidence: Evidence, index: Any, author: str, key_id: str
    ) -> Revoked | None:
        if index is None:
            return None
        try:
            rev, _ = self._verify_logged(evidence.server, evidence.record(int(index)))
        except (StepError, ServerError, TypeError, ValueError) as exc:
            raise AuthorKeyError(f"revocation of key {key_id} (entry {index}): {exc}") from exc
        if (
            rev.type != REVOKE
            or rev.body.get("party_id") != author
            or rev.body.get("key_id") != key_id
        ):
            raise AuthorKeyError(f"entry {index} is not the revocation of {author}'s {key_id}")
        return Revoked(int(index), rev.issued_at)


def _registered_key(reg: Entry, author: str, key_id: str, index: Any) -> Ed25519PublicKey:
    body = reg.body
    if reg.type not in KEY_TYPES or body.get("party_id") != author:
        raise AuthorKeyError(
            f"entry {index} is a {reg.type} for {body.get('party_id')!r}, expected a key "
            f"registration for {author}"
        )
    listed = (
        body.get("public_keys", []) if reg.type == "party.register" else [body.get("public_key")]
    )
    for text in listed:
        if isinstance(text, str):
            public = keys.public_from_b64(text)
            if keys.key_id(public) == key_id:
                return public
    raise AuthorKeyError(f"entry {index} does not register key {key_id} for {author}")

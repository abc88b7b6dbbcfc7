"""Check one scanned code end to end, trusting only the pins and the chain.

For a code: its authority signature (offline, against the pinned authority keys); that the
pinned log key is the one the chain pins for the log (``logKeyHash``, read once per run);
then every record the server shows for it, each through the pure core's
:func:`~foodtrace.trace.verify.verify_entry` (entry content → leaf hash → inclusion proof →
checkpoint signed by the pinned log key → root read from the contract, once per checkpoint
size per run), plus what only a client can check: the author's signature with the key
the author registered (itself a logged entry, verified the same way, up to the regulator's
self-signed registration), and that the checkpoint is consistent with the last one this
client saw. Last, at least one fully verified record must be about the code's subject, so a
server cannot answer a genuine code with someone else's genuine records.

Every step is reported (passed, failed with the reason, or skipped because an earlier one
failed); nothing stops at the first failure except within the ledger's chain of steps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from foodtrace.scanner.chain import ChainReadError, ContractReader
from foodtrace.scanner.client import Server, ServerError
from foodtrace.scanner.state import ScanState, SeenCheckpoint
from foodtrace.trace import bundle as bundle_mod
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import Checkpoint, parse_verifier_key, verify_checkpoint
from foodtrace.trace.codes import Code, CodeError, Lot, Merchant, Serial, parse_code, verify_code
from foodtrace.trace.entry import Entry
from foodtrace.trace.errors import CheckpointError, EntryError, VerificationError
from foodtrace.trace.logkey import check_log_key
from foodtrace.trace.merkle import verify_consistency
from foodtrace.trace.verify import STEPS, EntryContentError, StepError, verify_entry

OK, FAILED, SKIPPED = "ok", "failed", "skipped"
RECORD_STEPS = (*STEPS, "author", "consistency")
KEY_TYPES = ("party.register", "party.key.register")
MAX_KEY_DEPTH = 4  # author → registrar → ... → the regulator's self-signed registration


@dataclass(frozen=True)
class Step:
    name: str
    status: str
    detail: str


@dataclass
class RecordCheck:
    index: int | None
    type: str = "?"
    author: str = "?"
    steps: list[Step] = field(default_factory=list)
    entry: Entry | None = None

    @property
    def ok(self) -> bool:
        return all(s.status == OK for s in self.steps)

    def failed(self) -> list[Step]:
        return [s for s in self.steps if s.status == FAILED]


@dataclass
class CodeCheck:
    """The verdict on one code (or on an image that yielded none: ``decode_error``)."""

    source: str
    text: str = ""
    kind: str = ""
    subject: str = ""
    via: str = ""
    steps: list[Step] = field(default_factory=list)
    records: list[RecordCheck] = field(default_factory=list)
    decode_error: str = ""

    @property
    def ok(self) -> bool:
        return (
            not self.decode_error
            and all(s.status == OK for s in self.steps)
            and all(r.ok for r in self.records)
        )

    def failures(self) -> list[str]:
        """``"step: reason"`` for each failed step, records named by index."""
        out = [f"{s.name}: {s.detail}" for s in self.steps if s.status == FAILED]
        for r in self.records:
            out += [f"record {r.index} {s.name}: {s.detail}" for s in r.failed()]
        return out


@dataclass(frozen=True)
class Trust:
    """What a scan trusts: pinned keys, and the chain (one contract, read over JSON-RPC)."""

    authority_keys: Sequence[Ed25519PublicKey]
    log_key: str
    anchors: ContractReader


class AuthorKeyError(VerificationError):
    """The author's key could not be established from verified log entries."""


class HistoryForkError(StepError):
    """The server's checkpoint is not consistent with one this client saw before."""

    step = "consistency"


def _subject_text(code: Code) -> str:
    s = code.subject
    if isinstance(s, Merchant):
        return s.merchant_id
    return s.human_text()


def _is_about(entry: Entry, code: Code) -> bool:
    s, body = code.subject, entry.body
    if isinstance(s, Merchant):
        return entry.type == "party.register" and body.get("party_id") == s.merchant_id
    if isinstance(s, Lot):
        return body.get("gtin") == s.gtin and body.get("lot_code") == s.lot
    if isinstance(s, Serial):
        return body.get("gtin") == s.gtin and body.get("serial") == s.serial
    return False


class Scanner:
    """Checks codes against one set of pins, remembering checkpoints in ``state``.

    ``server_for`` picks the server to ask for a code (its own resolver, or an override).
    Verified key registrations and consistency results are cached for the run.
    """

    def __init__(
        self, trust: Trust, state: ScanState, server_for: Callable[[Code], Server]
    ) -> None:
        self.trust = trust
        self.state = state
        self.server_for = server_for
        self.origin = parse_verifier_key(trust.log_key).name
        self._keys: dict[tuple[str, str], tuple[Ed25519PublicKey, str | None, str | None]] = {}
        self._parties: dict[tuple[str, str], dict[str, Any]] = {}
        self._consistent: set[tuple[int, bytes]] = set()
        self._checkpoints: dict[str, Checkpoint] = {}
        self._log_key_step: Step | None = None
        self._seen_lock = threading.Lock()

    # -- the log key and checkpoints ---------------------------------------------------------

    def log_key_step(self) -> Step:
        """Is the pinned log key the one the chain pins for this log? Read once per run."""
        if self._log_key_step is None:
            try:
                check_log_key(self.trust.log_key, self.trust.anchors.log_key_hash())
                step = Step("log key", OK, f"the chain pins log key {self.origin!r} we use")
            except ChainReadError as exc:
                step = Step("log key", FAILED, f"could not read the pinned log key: {exc}")
            except VerificationError as exc:
                step = Step("log key", FAILED, str(exc))
            self._log_key_step = step
        return self._log_key_step

    def verify_checkpoint(self, note: str) -> Checkpoint:
        """The one place a served checkpoint is trusted: signed by the pinned log key, which
        the chain pins too (cached per note). A witness cosignature check belongs here."""
        cp = self._checkpoints.get(note)
        if cp is None:
            cp = verify_checkpoint(note, [self.trust.log_key])
            if self.log_key_step().status != OK:
                raise CheckpointError(f"log key not the chain's: {self.log_key_step().detail}")
            self._checkpoints[note] = cp
        return cp

    # -- a code ------------------------------------------------------------------------------

    def check_text(self, text: str, source: str) -> CodeCheck:
        result = CodeCheck(source=source, text=text)
        try:
            code = parse_code(text)
        except CodeError as exc:
            result.decode_error = f"not a 食安码: {exc}"
            return result
        result.kind, result.subject = str(code.kind), _subject_text(code)
        try:
            verify_code(code, self.trust.authority_keys)
            result.steps.append(
                Step("code", OK, f"{code.kind} code signed by authority key {code.key_id.hex()}")
            )
        except VerificationError as exc:
            result.steps.append(Step("code", FAILED, str(exc)))
            return result  # a forged code: nothing it points to means anything
        result.steps.append(self.log_key_step())
        server = self.server_for(code)
        try:
            resolved = server.resolve(code)
        except ServerError as exc:
            result.steps.append(Step("fetch", FAILED, str(exc)))
            return result
        result.via = resolved.via
        if not resolved.records:
            result.steps.append(Step("fetch", FAILED, f"no records with proofs ({resolved.via})"))
            return result
        result.steps.append(
            Step("fetch", OK, f"{len(resolved.records)} records via {resolved.via}")
        )
        result.records = [self.check_record(server, r) for r in resolved.records]
        about = [r for r in result.records if r.ok and r.entry and _is_about(r.entry, code)]
        if about:
            result.steps.append(
                Step(
                    "subject",
                    OK,
                    f"record {about[0].index} ({about[0].type}) is {result.subject}'s",
                )
            )
        else:
            result.steps.append(
                Step("subject", FAILED, f"no verified record is about {result.subject}")
            )
        return result

    # -- a record ----------------------------------------------------------------------------

    def _verify_logged(
        self, server: Server, record: dict[str, Any], passed: dict[str, str] | None = None
    ) -> Entry:
        """A served record through the ledger's steps; raises :class:`StepError`."""
        say = (
            (lambda step, detail: passed.__setitem__(step, detail)) if passed is not None else None
        )
        try:
            proof = bundle_mod.from_json(record["proof"])
            expected = bytes.fromhex(record["leaf_hash"]) if "leaf_hash" in record else None
            entry_json = json.dumps(record["entry"], ensure_ascii=False)
        except (KeyError, TypeError, ValueError, VerificationError) as exc:
            raise EntryContentError(f"malformed record proof: {exc}") from exc
        verify_entry(
            entry_json,
            proof,
            self.trust.log_key,
            self.trust.anchors,
            expected_leaf_hash=expected,
            report=say,
            consistency=server.consistency,
        )
        return entry_mod.loads(entry_json)

    def check_record(self, server: Server, record: dict[str, Any]) -> RecordCheck:
        index = record.get("index")
        check = RecordCheck(index if isinstance(index, int) else None)
        passed: dict[str, str] = {}
        failure: StepError | None = None
        try:
            self._verify_logged(server, record, passed)
        except StepError as exc:
            failure = exc
        for step in STEPS:
            if step in passed:
                check.steps.append(Step(step, OK, passed[step]))
            elif failure is not None and failure.step == step:
                check.steps.append(Step(step, FAILED, failure.reason))
            else:
                check.steps.append(Step(step, SKIPPED, "an earlier step failed"))
        try:
            entry = entry_mod.validate(record.get("entry"))
        except (EntryError, ValueError):
            entry = None
        if entry is not None:
            check.entry, check.type, check.author = entry, entry.type, entry.author
            check.steps.append(self._author_step(server, entry))
        else:
            check.steps.append(Step("author", SKIPPED, "the entry is malformed"))
        if "checkpoint" in passed:
            check.steps.append(self._consistency_step(server, record["proof"]["checkpoint"]))
        else:
            check.steps.append(Step("consistency", SKIPPED, "the checkpoint did not verify"))
        return check

    # -- the author's key --------------------------------------------------------------------

    def _author_step(self, server: Server, entry: Entry) -> Step:
        try:
            public, revoked_at, registered = self._author_key(server, entry.author, entry.key, 0)
            if (
                revoked_at is not None
                and entry_mod.parse_time(revoked_at) <= entry.issued_datetime()
            ):
                raise AuthorKeyError(
                    f"key {entry.key} of {entry.author} was revoked at {revoked_at}, "
                    f"before the entry was issued ({entry.issued_at})"
                )
            entry_mod.verify_signature(entry, public)
        except (VerificationError, ServerError) as exc:
            return Step("author", FAILED, str(exc))
        return Step("author", OK, f"signed by {entry.author} with key {entry.key} ({registered})")

    def _author_key(
        self, server: Server, author: str, key_id: str, depth: int
    ) -> tuple[Ed25519PublicKey, str | None, str]:
        """The author's public key from its verified registration entry, when it was revoked
        (if ever, from a verified revocation entry), and a note of where it came from."""
        cached = self._keys.get((author, key_id))
        if cached is not None:
            return cached[0], cached[1], cached[2] or ""
        if depth > MAX_KEY_DEPTH:
            raise AuthorKeyError(f"key chain of {author} is longer than {MAX_KEY_DEPTH}")
        party = self._party(server, author)
        listed = [k for k in party.get("keys", []) if k.get("key_id") == key_id]
        if not listed:
            raise AuthorKeyError(f"the server lists no key {key_id} for {author}")
        reg_index = listed[0].get("entry_index")
        try:
            reg = self._verify_logged(server, server.record(int(reg_index)))
        except (StepError, TypeError, ValueError) as exc:
            raise AuthorKeyError(
                f"registration of key {key_id} (entry {reg_index}): {exc}"
            ) from exc
        public = self._registered_key(reg, author, key_id, reg_index)
        if reg.author == author and reg.key == key_id:
            entry_mod.verify_signature(reg, public)  # self-signed: the regulator's bootstrap
            note = f"key registered in entry {reg_index}, self-signed"
        else:
            registrar, revoked, _ = self._author_key(server, reg.author, reg.key, depth + 1)
            if revoked is not None and entry_mod.parse_time(revoked) <= reg.issued_datetime():
                raise AuthorKeyError(
                    f"entry {reg_index} registering {author}'s key was signed with key "
                    f"{reg.key} of {reg.author}, revoked at {revoked}"
                )
            entry_mod.verify_signature(reg, registrar)
            note = f"key registered in entry {reg_index} by {reg.author}"
        revoked_at = self._revocation(server, listed[0].get("revoked_entry_index"), author, key_id)
        self._keys[(author, key_id)] = (public, revoked_at, note)
        return public, revoked_at, note

    def _party(self, server: Server, author: str) -> dict[str, Any]:
        """The server's record of ``author`` with its key list: fetched once per run."""
        cached = self._parties.get((server.base_url, author))
        if cached is None:
            cached = self._parties[(server.base_url, author)] = server.party(author)
        return cached

    @staticmethod
    def _registered_key(reg: Entry, author: str, key_id: str, index: Any) -> Ed25519PublicKey:
        body = reg.body
        if reg.type not in KEY_TYPES or body.get("party_id") != author:
            raise AuthorKeyError(
                f"entry {index} is a {reg.type} for {body.get('party_id')!r}, expected a key "
                f"registration for {author}"
            )
        listed = (
            body.get("public_keys", [])
            if reg.type == "party.register"
            else [body.get("public_key")]
        )
        for text in listed:
            if isinstance(text, str):
                public = keys.public_from_b64(text)
                if keys.key_id(public) == key_id:
                    return public
        raise AuthorKeyError(f"entry {index} does not register key {key_id} for {author}")

    def _revocation(self, server: Server, index: Any, author: str, key_id: str) -> str | None:
        if index is None:
            return None
        try:
            rev = self._verify_logged(server, server.record(int(index)))
        except (StepError, TypeError, ValueError) as exc:
            raise AuthorKeyError(f"revocation of key {key_id} (entry {index}): {exc}") from exc
        if (
            rev.type != "party.key.revoke"
            or rev.body.get("party_id") != author
            or rev.body.get("key_id") != key_id
        ):
            raise AuthorKeyError(f"entry {index} is not the revocation of {author}'s {key_id}")
        return rev.issued_at

    # -- consistency with what this client saw -----------------------------------------------

    def _consistency_step(self, server: Server, note: str) -> Step:
        try:
            cp = self.verify_checkpoint(note)
            with self._seen_lock:  # folders are scanned in parallel
                detail = self._check_seen(server, cp, note)
        except StepError as exc:
            return Step("consistency", FAILED, exc.reason)
        except (VerificationError, ServerError) as exc:
            return Step("consistency", FAILED, str(exc))
        return Step("consistency", OK, detail)

    def _check_seen(self, server: Server, cp: Checkpoint, note: str) -> str:
        seen = self.state.checkpoints.get(cp.origin)
        if seen is None:
            self.state.checkpoints[cp.origin] = SeenCheckpoint.of(cp, note)
            return f"first checkpoint seen of {cp.origin} (size {cp.size}), remembered"
        if (cp.size, cp.root) in self._consistent:
            return f"size {cp.size} consistent with size {seen.size} seen before"
        if cp.size == seen.size:
            if cp.root != seen.root:
                raise HistoryForkError(
                    f"the server's tree of size {cp.size} has root {cp.root.hex()}, but this "
                    f"client saw root {seen.root.hex()} at that size: two histories"
                )
        else:
            (s1, r1), (s2, r2) = sorted(((cp.size, cp.root), (seen.size, seen.root)))
            try:
                proof = server.consistency(s1, s2)
                verify_consistency(s1, s2, proof, r1, r2)
            except (VerificationError, ServerError) as exc:
                raise HistoryForkError(
                    f"the server's tree of size {cp.size} is not consistent with the tree of "
                    f"size {seen.size} this client saw before: {exc}"
                ) from exc
            if cp.size > seen.size:
                self.state.checkpoints[cp.origin] = SeenCheckpoint.of(cp, note)
        self._consistent.add((cp.size, cp.root))
        return f"size {cp.size} consistent with size {seen.size} seen before"

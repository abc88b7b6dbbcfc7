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

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from foodtrace.scanner.authors import AuthorKeys, Evidence
from foodtrace.scanner.chain import ChainReadError, ContractReader
from foodtrace.scanner.client import API, Resolved, Server, ServerError
from foodtrace.scanner.facts import Facts, Pins
from foodtrace.scanner.history import History
from foodtrace.scanner.logkeys import LogKeys
from foodtrace.scanner.revocations import LogRevocations, from_entries
from foodtrace.scanner.state import ScanState
from foodtrace.scanner.steps import FAILED, OK, SKIPPED, CodeCheck, RecordCheck, Step
from foodtrace.trace import bundle as bundle_mod
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.checkpoint import Checkpoint, parse_verifier_key, verify_checkpoint
from foodtrace.trace.codes import Code, CodeError, Lot, Merchant, Serial, parse_code, verify_code
from foodtrace.trace.entry import Entry
from foodtrace.trace.errors import CheckpointError, EntryError, VerificationError
from foodtrace.trace.verify import (
    STEPS,
    EntryContentError,
    StepError,
    verify_entry,
)

RECORD_STEPS = (*STEPS, "author", "consistency")
LICENCE_ISSUE = "licence.issue"


@dataclass(frozen=True)
class Trust:
    """What a scan trusts: pinned keys, and the chain (one contract, read over JSON-RPC)."""

    authority_keys: Sequence[Ed25519PublicKey]
    log_key: str
    anchors: ContractReader


def _subject_text(code: Code) -> str:
    s = code.subject
    if isinstance(s, Merchant):
        return s.merchant_id
    return s.human_text()


def _claimed(record: dict[str, Any]) -> Entry | None:
    """The entry a record that failed a step claims to be (its exact data when it came with
    it, else its JSON), or None if it is not even an entry."""
    data = record.get("data")
    try:
        if isinstance(data, str):
            return entry_mod.loads(data)
        return entry_mod.validate(record.get("entry"))
    except (EntryError, ValueError):
        return None


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
    What codes share (the chain's answers, checkpoint signatures, author keys, consistency
    proofs between trees) is verified once and kept in ``facts`` under these pins; pass the
    run's one :class:`~foodtrace.scanner.facts.Facts` to every scanner of a run (by default
    this scanner has its own). With
    ``revocations_from_log``, every author key is also checked against the revocations the
    log itself holds (all its entries, fetched once per run: see
    :mod:`foodtrace.scanner.revocations`), not only the ones the server names.
    """

    def __init__(
        self,
        trust: Trust,
        state: ScanState,
        server_for: Callable[[Code], Server],
        *,
        revocations_from_log: bool = False,
        facts: Facts | None = None,
    ) -> None:
        self.trust = trust
        self.state = state
        self.server_for = server_for
        self.origin = parse_verifier_key(trust.log_key).name
        pins = Pins.of(trust.authority_keys, trust.log_key, trust.anchors)
        known = (facts or Facts()).under(pins)
        self.anchors = trust.anchors.sharing(known.chain)
        self.authors = AuthorKeys(
            self._verify_logged,
            self._log_revocations if revocations_from_log else None,
            log_keys=self._accepted_keys,
            known=known.author_keys(revocations_from_log),
        )
        self.log_keys = LogKeys(trust.log_key, self.anchors, known.log_keys)
        self._signed_notes = known.signed_notes
        self.history = History(state, self.verify_checkpoint, known.tied)
        self._revocations: dict[str, LogRevocations] = {}
        self._revocations_lock = threading.Lock()
        self.revocations_from_log = revocations_from_log

    # -- the log key and checkpoints ---------------------------------------------------------

    def log_key_step(self, offered: str = "") -> Step:
        """Is the pinned log key the chain's, or one the chain rotated to from it (the one
        the server ``offered``)? Read once per run."""
        try:
            return Step("log key", OK, self.log_keys.check(offered))
        except ChainReadError as exc:
            return Step("log key", FAILED, f"could not read the pinned log key: {exc}")
        except VerificationError as exc:
            return Step("log key", FAILED, str(exc))

    def _accepted_keys(self) -> list[str]:
        """The keys checked against the chain, checking the pinned one first if need be."""
        if not self.log_keys.accepted:
            self.log_key_step()
        return self.log_keys.accepted

    def verify_checkpoint(self, note: str) -> Checkpoint:
        """The one place a served checkpoint is trusted: signed by the pinned log key or one
        the chain announced after it (cached per note). A witness cosignature check belongs
        here."""
        accepted = self._accepted_keys()
        if not accepted:
            verify_checkpoint(note, [self.trust.log_key])  # a bad signature shows first
            raise CheckpointError(f"log key not the chain's: {self.log_key_step().detail}")
        # the records' own checkpoint step has usually checked this signature already
        return self._signed(note, accepted)

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
        server = self.server_for(code)
        try:
            resolved: Resolved | ServerError = server.resolve(code)
        except ServerError as exc:
            resolved = exc
        if not isinstance(resolved, ServerError):
            self._prefetch(resolved)  # the chain step of every record: one round trip
        result.steps.append(
            self.log_key_step("" if isinstance(resolved, ServerError) else resolved.verifier_key)
        )
        if isinstance(resolved, ServerError):
            result.steps.append(Step("fetch", FAILED, str(resolved)))
            return result
        result.via = resolved.via
        if not resolved.records:
            result.steps.append(Step("fetch", FAILED, f"no records with proofs ({resolved.via})"))
            return result
        proved = {r.get("index") for r in resolved.records}
        unproved = [i for i in resolved.platform_signed if i not in proved]
        if unproved:  # named as the platform's, but offered without a proof
            result.steps.append(
                Step("fetch", FAILED, f"platform-signed records without a proof: {unproved}")
            )
            return result
        platform = (
            f", {len(resolved.platform_signed)} signed by the platform"
            if resolved.platform_signed
            else ""
        )
        result.steps.append(
            Step("fetch", OK, f"{len(resolved.records)} records via {resolved.via}{platform}")
        )
        evidence = Evidence(server, resolved)
        result.records = [self.check_record(evidence, r) for r in resolved.records]
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
        if self.revocations_from_log and isinstance(code.subject, Merchant):
            result.steps.append(self._licence_step(server, result.records))
        return result

    def _licence_step(self, server: Server, records: list[RecordCheck]) -> Step:
        """Is every licence the page shows unrevoked in the log, or shown with the logged
        revocation? A page leaving out a revocation the log holds is a server hiding it."""
        issued = [
            (r.index, str(r.entry.body.get("number", "")))
            for r in records
            if r.ok and r.entry is not None and r.entry.type == LICENCE_ISSUE
        ]
        try:
            log = self._log_revocations(server, 0)
        except (VerificationError, ServerError) as exc:
            return Step("licences", FAILED, f"could not read the log's revocations: {exc}")
        shown = {r.index for r in records if r.ok}
        hidden: list[str] = []
        revoked: list[str] = []
        for index, number in issued:
            found = log.licence(number)
            if found is None:
                continue
            said = f"licence {number} (entry {index}) is revoked in entry {found.index}"
            (revoked if found.index in shown else hidden).append(
                f"{said} (issued {found.issued_at})"
            )
        if hidden:
            return Step(
                "licences",
                FAILED,
                f"{'; '.join(hidden)}, which the page does not show: the server hides a revocation",
            )
        return Step(
            "licences",
            OK,
            f"{len(issued)} licence(s) checked against the log's {log.size} entries; "
            f"{len(revoked)} revoked, and shown with the revocation",
        )

    def _prefetch(self, resolved: Resolved) -> None:
        """Read the log key and the roots at every checkpoint size the answer uses in one
        batch; a failure here is left for the steps that read them to report."""
        sizes = set()
        for record in [*resolved.records, *resolved.evidence.values()]:
            try:
                note = record["proof"]["checkpoint"]
                sizes.add(int(note.split("\n", 2)[1]))
            except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                continue
        with contextlib.suppress(ChainReadError):
            self.anchors.prefetch(sorted(sizes))

    # -- a record ----------------------------------------------------------------------------

    def _verify_logged(
        self, server: Server, record: dict[str, Any], passed: dict[str, str] | None = None
    ) -> tuple[Entry, int]:
        """A served record through the ledger's steps, and the tree size it was proved in;
        raises :class:`StepError`."""
        say = (
            (lambda step, detail: passed.__setitem__(step, detail)) if passed is not None else None
        )
        try:
            proof = bundle_mod.from_json(record["proof"])
            expected = bytes.fromhex(record["leaf_hash"]) if "leaf_hash" in record else None
            # the exact leaf data when the server sent it (the resolver does), else the entry
            data = record.get("data")
            entry_json = (
                data if isinstance(data, str) else json.dumps(record["entry"], ensure_ascii=False)
            )
        except (KeyError, TypeError, ValueError, VerificationError) as exc:
            raise EntryContentError(f"malformed record proof: {exc}") from exc
        # Without a key the chain vouches for, the pinned one still shows where the record
        # fails (the code has already failed its "log key" step).
        accepted = self._accepted_keys() or [self.trust.log_key]
        verified = verify_entry(
            entry_json,
            proof,
            accepted,
            self.anchors,
            expected_leaf_hash=expected,
            report=say,
            consistency=server.consistency,
            signed_checkpoint=lambda note: self._signed(note, accepted),
        )
        assert verified.entry is not None
        return verified.entry, verified.checkpoint.size

    def _signed(self, note: str, accepted: list[str]) -> Checkpoint:
        """A checkpoint note signed by one of ``accepted``, its signature checked once per run
        (a code's records share one or two checkpoints, and codes of a run the latest)."""
        key = (note, tuple(accepted))
        cp = self._signed_notes.get(key)
        if cp is None:
            cp = self._signed_notes[key] = verify_checkpoint(note, accepted)
        return cp

    def check_record(self, evidence: Evidence | Server, record: dict[str, Any]) -> RecordCheck:
        if isinstance(evidence, Server):
            evidence = Evidence(evidence)
        server = evidence.server
        index = record.get("index")
        check = RecordCheck(index if isinstance(index, int) else None)
        passed: dict[str, str] = {}
        failure: StepError | None = None
        size, entry = 0, None
        try:
            entry, size = self._verify_logged(server, record, passed)
        except StepError as exc:
            failure = exc
        for step in STEPS:
            if step in passed:
                check.steps.append(Step(step, OK, passed[step]))
            elif failure is not None and failure.step == step:
                check.steps.append(Step(step, FAILED, failure.reason))
            else:
                check.steps.append(Step(step, SKIPPED, "an earlier step failed"))
        if entry is None:  # it failed a step: what it is still tells who claims to sign it
            entry = _claimed(record)
        if entry is not None:
            check.entry, check.type, check.author = entry, entry.type, entry.author
            check.steps.append(self._author_step(evidence, entry, check.index, size))
        else:
            check.steps.append(Step("author", SKIPPED, "the entry is malformed"))
        if "checkpoint" in passed:
            check.steps.append(self.history.step(evidence, record["proof"]["checkpoint"]))
        else:
            check.steps.append(Step("consistency", SKIPPED, "the checkpoint did not verify"))
        return check

    # -- the author's key --------------------------------------------------------------------

    def _author_step(self, evidence: Evidence, entry: Entry, index: int | None, size: int) -> Step:
        try:
            note = self.authors.check(evidence, entry, index, size)
        except (VerificationError, ServerError) as exc:
            return Step("author", FAILED, str(exc))
        return Step("author", OK, note)

    def _log_revocations(self, server: Server, size: int) -> LogRevocations:
        """The log's own revocations up to at least ``size``: every entry from the server's
        tiles, proved to be the tree of the server's latest checkpoint (verified here)."""
        with self._revocations_lock:
            found = self._revocations.get(server.base_url)
            if found is not None and found.size >= size:
                return found
            answer = server.get_json(f"{API}/log/checkpoint")
            note = answer.get("checkpoint") if isinstance(answer, dict) else None
            if not isinstance(note, str):
                raise ServerError("the log's checkpoint: expected {'checkpoint': note}")
            cp = self.verify_checkpoint(note)
            if cp.size < size:
                raise ServerError(f"the log's checkpoint (size {cp.size}) is older than {size}")
            found = from_entries(server.entries(cp.size), cp)
            self._revocations[server.base_url] = found
            return found

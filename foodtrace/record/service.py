"""The one write path: check every entry of a request, then append them as one group.

Every check runs on every entry before anything is written, and every problem found is
reported at once, as one problem+json naming each by pointer (``/entries/3/author``):
403 when any entry is one the caller may not write (role, or signing for another party),
422 otherwise. Only a request with no problem reaches the log, as one atomic group whose
projections run in the append's transaction; a projector's refusal (unknown lot, duplicate
report) rejects the whole group and is reported the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foodtrace.api.problems import (
    RETRY_AFTER_S,
    FieldProblem,
    Problem,
    pointer,
    problem_type,
)
from foodtrace.auth.models import Principal
from foodtrace.config import Settings
from foodtrace.record import registry
from foodtrace.record.custody import NoCustodialKey, custodial_key
from foodtrace.sequencer.client import SequencedLog
from foodtrace.sequencer.refusal import (
    EntryRefused,
    GroupFailed,
    SequencerUnavailable,
    StoredConflict,
)
from foodtrace.sequencer.sequencer import registered_projector
from foodtrace.store.authors import KeyInfo, KeyTable, utc
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import AuthorKey
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry
from foodtrace.trace.errors import SignatureError

_log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=10)
"""How far ``issued_at`` may be from the server's clock. Bounding it stops a holder of a
revoked or expired key from backdating entries to before the revocation."""

SessionFactory = Callable[[], Session]
Where = Callable[[int], str]
WriteListener = Callable[[MerkleLog, SessionFactory], None]
_written: list[WriteListener] = []


def on_written(listener: WriteListener) -> None:
    """Call ``listener(log, session_factory)`` after every group :func:`submit` accepted
    (grading regrades the parties the group touched, see :mod:`foodtrace.grading.hook`)."""
    if listener not in _written:
        _written.append(listener)


def entries_pointer(i: int) -> str:
    return f"/entries/{i}"


@dataclass(frozen=True)
class RecordRef:
    """Where an accepted entry landed in the log."""

    index: int
    entry: Entry
    leaf_hash: bytes


def _key_table(session: Session, entries: Sequence[Entry], now: datetime) -> KeyTable:
    wanted = {(e.author, e.key) for e in entries}
    authors = {a for a, _ in wanted}
    rows = session.scalars(select(AuthorKey).where(AuthorKey.author.in_(authors))).all()
    table: dict[tuple[str, str], KeyInfo] = {}
    for r in rows:
        if (r.author, r.key_id) in wanted:
            valid_from = utc(r.valid_from)
            assert valid_from is not None
            table[(r.author, r.key_id)] = KeyInfo(
                r.author,
                r.key_id,
                bytes(r.public_key),
                valid_from,
                utc(r.valid_until),
                utc(r.revoked_at),
            )
    return KeyTable(table, now)


def body_problems(model: type[BaseModel], body: Mapping[str, Any], base: str) -> list[FieldProblem]:
    """Every pydantic error of ``body`` against ``model``, pointed at ``base``/field."""
    try:
        model.model_validate(dict(body))
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            ctx = e.get("ctx") or {}
            if e["type"] == "missing":
                detail = "is required"
            elif e["type"] == "extra_forbidden":
                detail = "is not an allowed field"
            elif e["type"] == "value_error" and "error" in ctx:
                detail = str(ctx["error"])
            else:
                detail = e["msg"]
            out.append(FieldProblem(base + pointer(*e["loc"]), detail))
        return out
    return []


def check(
    session: Session,
    principal: Principal,
    entries: Sequence[Entry],
    *,
    where: Where = entries_pointer,
    now: datetime | None = None,
    principals: Sequence[Principal] | None = None,
    bodies_checked: bool = False,
) -> tuple[list[FieldProblem], list[FieldProblem]]:
    """``(forbidden, invalid)``: every problem with every entry, none written.

    ``principals`` (one per entry) checks a group written for several authors at once,
    such as a recall and the platform's entries about lots its initiator does not hold.
    ``bodies_checked``: the caller already ran :func:`body_problems` with each type's model
    on every body and found nothing (a capture does, in its own process)."""
    now = now or datetime.now(UTC)
    table = _key_table(session, entries, now)
    forbidden: list[FieldProblem] = []
    invalid: list[FieldProblem] = []
    for i, e in enumerate(entries):
        at = where(i)
        who = principals[i] if principals is not None else principal
        try:
            spec: registry.EntryType | None = registry.spec(e.type)
        except registry.UnknownEntryType as exc:
            spec = None
            invalid.append(FieldProblem(at + "/type", str(exc)))
        if spec is not None and who.role not in spec.roles:
            roles = ", ".join(sorted(r.value for r in spec.roles))
            forbidden.append(
                FieldProblem(
                    at + "/type",
                    f"the role {who.role.value} may not write {e.type} entries; "
                    f"expected one of: {roles}",
                )
            )
        if e.author != who.party_id:
            forbidden.append(
                FieldProblem(
                    at + "/author",
                    f"expected {who.party_id} (the token's party): a party can only "
                    f"write entries it signs itself, got {e.author}",
                )
            )
        if spec is not None and spec.body is not None and not bodies_checked:
            invalid += body_problems(spec.body, e.body, at + "/body")
        issued = e.issued_datetime()
        if abs(issued - now) > CLOCK_SKEW:
            invalid.append(
                FieldProblem(
                    at + "/issued_at",
                    f"expected a time within {int(CLOCK_SKEW.total_seconds() // 60)} minutes "
                    f"of the server's clock ({now.isoformat(timespec='seconds')}), "
                    f"got {e.issued_at}",
                )
            )
        try:
            entry_mod.verify(e, table.lookup)
        except SignatureError as exc:
            invalid.append(FieldProblem(at + "/sig", str(exc)))
    return forbidden, invalid


def _rejected(status: int, problems: list[FieldProblem]) -> Problem:
    n = len(problems)
    if status == 403:
        title, kind = "Not allowed to write these entries", "forbidden-entry"
    elif status == 409:
        title, kind = "Conflicts with stored records", "conflict"
    else:
        title, kind = "Invalid entries", "invalid-entry"
    return Problem(
        status,
        title,
        f"Nothing was written: {n} problem{'s' if n != 1 else ''}",
        problem_type(kind),
        problems,
    )


def submit(
    log: MerkleLog,
    session_factory: SessionFactory,
    principal: Principal,
    entries: Sequence[Entry],
    *,
    where: Where = entries_pointer,
    principals: Sequence[Principal] | None = None,
    also: registry.Projector | None = None,
    bodies_checked: bool = False,
) -> list[RecordRef]:
    """Check every entry, then append them all as one atomic group and project them.

    ``also`` runs after each entry's own projector, in the same transaction: data kept
    beside the log (personal data behind a commitment) is stored only with its entry, and
    vanishes with it if the group is refused.

    Raises :class:`Problem` (403/409/422, every problem listed) and writes nothing when any
    entry is refused. ``principals``: one per entry, for a group of several authors;
    ``bodies_checked`` as for :func:`check`.
    """
    if not entries:
        raise Problem(
            422,
            "Invalid entries",
            "Nothing was written: no entries",
            problem_type("invalid-entry"),
            [FieldProblem(where(0).rsplit("/", 1)[0] or "/", "expected at least one entry")],
        )
    registry.load_types()
    _register_platform_keys(log, session_factory, entries)
    with session_factory() as session:
        forbidden, invalid = check(
            session,
            principal,
            entries,
            where=where,
            principals=principals,
            bodies_checked=bodies_checked,
        )
    if forbidden:
        raise _rejected(403, forbidden + invalid)
    if invalid:
        raise _rejected(422, invalid)

    try:
        indices = _append(log, session_factory, entries, also)
    except EntryRefused as exc:
        base = where(exc.position) + "/body"
        raise _rejected(
            exc.status,
            [
                FieldProblem(base + pointer(*f.split(".")) if f else base, d)
                for f, d in exc.problems
            ],
        ) from exc
    except (IntegrityError, StoredConflict) as exc:
        raise _rejected(
            409, [FieldProblem(where(0), "conflicts with a record stored at the same time")]
        ) from exc
    except SequencerUnavailable as exc:
        raise Problem(
            503,
            "Sequencer unavailable",
            f"Not acknowledged: {exc}",
            problem_type("sequencer-unavailable"),
            [FieldProblem(where(0), "not integrated yet: send the same entries again")],
        ) from exc
    except GroupFailed as exc:
        _log.warning("%s", exc)  # the database's own words stay in the operator's log
        raise Problem(
            503,
            "Sequencer failed the group",
            "The sequencer could not store these entries; nothing of them was stored.",
            problem_type("sequencer-failed"),
            [FieldProblem(where(0), "not stored: send the same entries again")],
            headers={"Retry-After": RETRY_AFTER_S},
        ) from exc
    for listener in _written:
        listener(log, session_factory)
    return [RecordRef(i, e, e.leaf_hash()) for i, e in zip(indices, entries, strict=True)]


def _register_platform_keys(
    log: MerkleLog, session_factory: SessionFactory, entries: Sequence[Entry]
) -> None:
    """Log the registration of each platform key ``entries`` are signed with, if the log
    has none yet (:mod:`foodtrace.platformkey.writes`): a group of its own, before them. A
    409 is another worker's registration of the same key, logged first."""
    from foodtrace.auth.models import Role
    from foodtrace.platformkey.writes import registrations

    for reg in registrations(log, session_factory, entries):
        try:
            submit(log, session_factory, Principal(reg.author, Role.REGULATOR, 0), [reg])
        except Problem as exc:
            if exc.status != 409:
                raise


def _append(
    log: MerkleLog,
    session_factory: SessionFactory,
    entries: Sequence[Entry],
    also: registry.Projector | None,
) -> range:
    """Append one group projected by the registry: through the elected sequencer when the
    log is sequenced (several workers), else in this process. Refusals come out of both as
    :class:`EntryRefused` naming the entry's position in the group.

    ``also`` runs in the append's transaction in this process; the sequencer cannot run a
    closure of ours, so there it runs once the group is integrated (data kept beside the
    log then follows its entry's commit, and a refused group never reaches it)."""
    if isinstance(log, SequencedLog):
        indices = log.append_registered(entries)
        if also is not None:
            with session_factory() as session, session.begin():
                for index, entry in zip(indices, entries, strict=True):
                    also(session, index, entry)
        return indices
    projectors = [registered_projector()] if also is None else [registered_projector(), also]
    return log.append(list(entries), projectors=projectors)


def sign_custodial(
    session: Session,
    party_id: str,
    type: str,
    body: Mapping[str, Any],
    *,
    settings: Settings | None = None,
) -> Entry:
    """Sign an entry for ``party_id`` with the key the server holds for it (422 if none)."""
    return custodial_signer(session, party_id, settings=settings)(type, body)


def custodial_signer(
    session: Session, party_id: str, *, settings: Settings | None = None
) -> Callable[[str, Mapping[str, Any]], Entry]:
    """Sign many entries for ``party_id`` with its server-held key, read (and decrypted)
    once: a 10,000-event capture would otherwise spend most of its time loading the key."""
    key = custodial_private_key(session, party_id, settings=settings)

    def sign(type: str, body: Mapping[str, Any]) -> Entry:
        return entry_mod.sign(key, type=type, author=party_id, body=body)

    return sign


def custodial_private_key(
    session: Session, party_id: str, *, settings: Settings | None = None
) -> Ed25519PrivateKey:
    """The server-held key that may sign for ``party_id`` now (422 if none), for a signer
    that runs elsewhere (the capture processes of :mod:`foodtrace.epcis.pool`)."""
    try:
        return custodial_key(session, party_id, settings or Settings())
    except NoCustodialKey as exc:
        raise Problem(
            422,
            "No server-held key",
            f'{exc}: send a client-signed entry as {{"entry": {{…}}}} instead',
            problem_type("no-custodial-key"),
            [FieldProblem("/body", 'expected {"entry": signed entry} for this party')],
        ) from exc


def record_proof(log: MerkleLog, index: int) -> dict[str, Any]:
    """Everything a reader needs to verify record ``index`` without trusting the server:
    the entry, its leaf hash, an inclusion proof bundle with the signed checkpoint, and the
    log's verifier key."""
    record = log.record(index)
    entry = record.entry()  # parsed once
    bundle = log.bundle(index)
    return {
        "index": index,
        "entry": entry.unsigned() | {"sig": entry.sig},
        "leaf_hash": record.hash.hex(),
        "proof": bundle.to_json(),
        "bundle": bundle.to_text(),
        "verifier_key": log.verifier_key(),
    }

"""Registering a party as one logged group: its ``party.register`` entry, the entries that
belong with it (the grid it is assigned to, when an inspector registers it on the street),
and its enrolment code's ``token.event``, so that the party is stored with all of them or
with none.

Before, they were separate appends: a disk that filled (or a database that went away)
between them left the party registered under a 507 that said nothing was stored, and the
retry was refused 409. Now a refused group leaves no entry, no projected row, and no usable
code or server-held key, and the same request sent again registers the party.

The group is one append, projected in one transaction, also through the sequencer (whose
``also=`` would run in a transaction of its own after the group is stored): everything the
registration writes is an entry of the group.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from foodtrace.api.problems import FieldProblem
from foodtrace.auth import Principal, codes, flows
from foodtrace.party.schemas import Position
from foodtrace.record.models import CustodialKey
from foodtrace.record.service import RecordRef, SessionFactory, _rejected, check, submit
from foodtrace.report import uploads
from foodtrace.store.db import begin_write
from foodtrace.store.log import MerkleLog
from foodtrace.trace.entry import Entry

ENTRY_TYPE = "party.register"


@dataclass(frozen=True)
class Registered:
    ref: RecordRef
    code: flows.NewCode


def register(
    log: MerkleLog,
    sessions: SessionFactory,
    logger: flows.Logger,
    principal: Principal,
    entry: Entry,
    where: str,
    *,
    with_entries: Sequence[Entry] = (),
) -> Registered:
    """Log ``entry`` (a ``party.register``), ``with_entries`` (the principal's entries
    about the new party, such as its ``grid.assign``) and the party's first enrolment code
    in one group. Every entry is checked first, and the shopfront photo the registration
    names must be a stored image, so a refused request (role, fields, signature) writes
    nothing at all; ``where`` is the entries' pointer in the request."""
    ours = [entry, *with_entries]
    with sessions() as session:
        forbidden, invalid = check(
            session, principal, ours, where=lambda _: where, principals=[principal] * len(ours)
        )
    invalid += _photo_problems(logger, entry, where)
    if forbidden or invalid:
        raise _rejected(403 if forbidden else 422, forbidden + invalid)
    pending = codes.pending_code(logger, principal, entry.body["party_id"])
    try:
        ref, *_ = submit(
            log,
            sessions,
            principal,
            [*ours, pending.entry],
            where=lambda _: where,
            principals=[*([principal] * len(ours)), logger.principal],
        )
    except BaseException:
        codes.withdraw_code(logger, pending)
        raise
    return Registered(ref, pending.code)


def _photo_problems(logger: flows.Logger, entry: Entry, where: str) -> list[FieldProblem]:
    photo = entry.body.get("shopfront_photo")
    if not isinstance(photo, str) or uploads.is_image(logger.settings.data_dir, photo):
        return []  # none named, or not a SHA-256 at all (check() reported that)
    return [
        FieldProblem(
            f"{where}/body/shopfront_photo", "expected the SHA-256 of an uploaded JPEG or PNG"
        )
    ]


@dataclass(frozen=True)
class Particulars:
    """What a registration records beyond the ``parties`` row: where the business was
    found and its shopfront photo (by SHA-256)."""

    position: Position | None
    shopfront_photo: str | None


def particulars(leaf_data: bytes) -> Particulars:
    """The particulars a ``party.register`` entry (its leaf data, as stored) records: a
    reader joins ``entries`` on ``parties.entry_index`` to get it with the party's row."""
    body = json.loads(bytes(leaf_data))["body"]
    position = body.get("position")
    return Particulars(
        Position.model_validate(position) if position is not None else None,
        body.get("shopfront_photo"),
    )


def discard_custodial_key(sessions: SessionFactory, party_id: str, key_id: str) -> bool:
    """Delete the server-held key made for a registration that was refused (it was never
    registered, so nothing could sign with it); False if the database refused even that."""
    try:
        with sessions() as session, session.begin():
            begin_write(session)
            session.execute(
                delete(CustodialKey).where(
                    CustodialKey.party_id == party_id, CustodialKey.key_id == key_id
                )
            )
    except SQLAlchemyError:
        return False
    return True

"""Registering a party as one logged group: its ``party.register`` entry and its enrolment
code's ``token.event``, so that the party is stored with its code or not at all.

Before, they were two appends: a disk that filled (or a database that went away) between
them left the party registered under a 507 that said nothing was stored, and the retry was
refused 409. Now a refused group leaves neither entry, no projected row, and no usable code
or server-held key, and the same request sent again registers the party.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from foodtrace.auth import Principal, flows
from foodtrace.record.models import CustodialKey
from foodtrace.record.service import RecordRef, SessionFactory, _rejected, check, submit
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
) -> Registered:
    """Log ``entry`` (a ``party.register``) and its party's first enrolment code in one
    group. The entry is checked first, so a refused one (role, fields, signature) writes
    nothing at all; ``where`` is its pointer in the request."""
    with sessions() as session:
        forbidden, invalid = check(session, principal, [entry], where=lambda _: where)
    if forbidden or invalid:
        raise _rejected(403 if forbidden else 422, forbidden + invalid)
    pending = flows.pending_code(logger, principal, entry.body["party_id"])
    try:
        ref, _ = submit(
            log,
            sessions,
            principal,
            [entry, pending.entry],
            where=lambda _: where,
            principals=[principal, logger.principal],
        )
    except BaseException:
        flows.withdraw_code(logger, pending)
        raise
    return Registered(ref, pending.code)


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

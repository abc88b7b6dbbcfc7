"""Projecting ``party.*`` and ``licence.*`` entries, reads, and the one bootstrap write.

Key entries update ``author_keys`` in the append's own transaction, so a key is usable for
the very next request and a revocation takes effect the moment its entry is logged.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.config import Settings
from foodtrace.party import registration
from foodtrace.party.models import Licence, Party, PartyKey
from foodtrace.party.schemas import (
    KeyBody,
    KeyOut,
    KeyRevokeBody,
    LicenceBody,
    LicenceKind,
    LicenceOut,
    LicenceRevokeBody,
    PartyBody,
    PartyKind,
    PartyOut,
)
from foodtrace.party.status import licence_status
from foodtrace.record.registry import (
    ProjectionError,
    conflict,
    missing,
    register_type,
)
from foodtrace.store.db import session_factory
from foodtrace.store.keyset import ascending
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import AuthorKey, LogEntry
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry

ALL_ROLES = frozenset(Role)
REGULATOR = frozenset({Role.REGULATOR})


# --- projections -----------------------------------------------------------------------------


def _add_key(
    session: Session,
    party_id: str,
    public_key: str,
    index: int,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> None:
    raw = base64.b64decode(public_key)
    key_id = keys.key_id(raw)
    if session.get(AuthorKey, (party_id, key_id)) is not None:
        raise conflict("public_key", f"party {party_id} already has key {key_id}")
    session.add(
        AuthorKey(
            author=party_id,
            key_id=key_id,
            public_key=raw,
            valid_from=valid_from,
            valid_until=valid_until.astimezone(UTC) if valid_until else None,
            revoked_at=None,
        )
    )
    session.add(
        PartyKey(party_id=party_id, key_id=key_id, public_key=public_key, entry_index=index)
    )


@functools.cache
def _platform_author() -> str:
    return Settings().platform_author


def project_party(session: Session, index: int, entry: Entry) -> None:
    body = PartyBody.model_validate(entry.body)
    problems = []
    if body.party_id == _platform_author():
        problems.append(("party_id", f"{body.party_id} is the platform's own author id"))
    if session.get(Party, body.party_id) is not None:
        problems.append(("party_id", f"party {body.party_id} is already registered"))
    other = session.scalar(select(Party.party_id).where(Party.credit_code == body.credit_code))
    if other is not None:
        problems.append(("credit_code", f"is already the credit code of party {other}"))
    if problems:
        raise ProjectionError(409, problems)
    session.add(
        Party(
            party_id=body.party_id,
            name=body.name,
            kind=body.kind.value,
            credit_code=body.credit_code,
            gln=body.gln,
            region=body.region,
            grid=body.grid,
            address=body.address,
            entry_index=index,
        )
    )
    session.flush()
    for i, public_key in enumerate(body.public_keys):
        try:
            _add_key(session, body.party_id, public_key, index, entry.issued_datetime())
        except Exception as exc:
            raise conflict(f"public_keys.{i}", str(exc)) from exc


def _may_manage_keys(session: Session, author: str, party_id: str) -> None:
    # The platform registers the key a party sends with its enrolment code (auth.flows).
    if author == party_id or author == _platform_author():
        return
    writer = session.get(Party, author)
    if writer is None or writer.kind != PartyKind.REGULATOR:
        raise missing(
            "party_id",
            f"expected {author} itself: only a regulator manages another party's keys",
        )


def project_key(session: Session, index: int, entry: Entry) -> None:
    body = KeyBody.model_validate(entry.body)
    if session.get(Party, body.party_id) is None:
        raise missing("party_id", f"party {body.party_id} is not registered")
    _may_manage_keys(session, entry.author, body.party_id)
    _add_key(
        session, body.party_id, body.public_key, index, entry.issued_datetime(), body.valid_until
    )


def project_key_revoke(session: Session, index: int, entry: Entry) -> None:
    body = KeyRevokeBody.model_validate(entry.body)
    _may_manage_keys(session, entry.author, body.party_id)
    row = session.get(AuthorKey, (body.party_id, body.key_id))
    link = session.get(PartyKey, (body.party_id, body.key_id))
    if row is None or link is None:
        raise missing("key_id", f"party {body.party_id} has no key {body.key_id}")
    if row.revoked_at is not None:
        raise conflict("key_id", f"key {body.key_id} is already revoked")
    row.revoked_at = entry.issued_datetime().astimezone(UTC)
    link.revoked_entry_index = index


def project_licence(session: Session, index: int, entry: Entry) -> None:
    body = LicenceBody.model_validate(entry.body)
    holder = session.get(Party, body.holder)
    if holder is None:
        raise missing("holder", f"party {body.holder} is not registered")
    if body.kind == LicenceKind.BUSINESS and body.number != holder.credit_code:
        raise missing(
            "number",
            f"a business licence's number is the holder's credit code {holder.credit_code}",
        )
    if session.get(Licence, body.number) is not None:
        raise conflict("number", f"licence {body.number} is already recorded")
    session.add(
        Licence(
            number=body.number,
            kind=body.kind.value,
            holder=body.holder,
            scope=body.scope,
            issuer=body.issuer,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            entry_index=index,
        )
    )


def project_licence_revoke(session: Session, index: int, entry: Entry) -> None:
    body = LicenceRevokeBody.model_validate(entry.body)
    row = session.get(Licence, body.number.strip().upper())
    if row is None:
        raise missing("number", f"licence {body.number} is not recorded")
    if row.revoked_on is not None:
        raise conflict("number", f"licence {body.number} was already revoked on {row.revoked_on}")
    row.revoked_on = entry.issued_datetime().date()
    row.revoke_reason = body.reason
    row.revoked_entry_index = index


register_type("party.register", roles=REGULATOR, project=project_party, body=PartyBody)
register_type("party.key.register", roles=ALL_ROLES, project=project_key, body=KeyBody)
register_type("party.key.revoke", roles=ALL_ROLES, project=project_key_revoke, body=KeyRevokeBody)
register_type("licence.issue", roles=REGULATOR, project=project_licence, body=LicenceBody)
register_type(
    "licence.revoke", roles=REGULATOR, project=project_licence_revoke, body=LicenceRevokeBody
)


# --- reads -----------------------------------------------------------------------------------


def licence_out(row: Licence, today: date | None = None) -> LicenceOut:
    return LicenceOut(
        number=row.number,
        kind=LicenceKind(row.kind),
        holder=row.holder,
        scope=row.scope,
        issuer=row.issuer,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        revoked_on=row.revoked_on,
        revoke_reason=row.revoke_reason,
        status=licence_status(
            row.valid_from, row.valid_until, row.revoked_on, today or datetime.now(UTC).date()
        ),
        entry_index=row.entry_index,
    )


def get_party(session: Session, party_id: str) -> PartyOut | None:
    row = session.get(Party, party_id)
    if row is None:
        return None
    key_rows = session.scalars(
        select(PartyKey).where(PartyKey.party_id == party_id).order_by(PartyKey.entry_index)
    ).all()
    leaf = session.scalar(select(LogEntry.data).where(LogEntry.leaf_index == row.entry_index))
    found = registration.particulars(leaf) if leaf is not None else None
    return PartyOut(
        party_id=row.party_id,
        name=row.name,
        kind=PartyKind(row.kind),
        credit_code=row.credit_code,
        gln=row.gln,
        region=row.region,
        grid=row.grid,
        address=row.address,
        keys=[
            KeyOut(
                key_id=k.key_id,
                public_key=k.public_key,
                entry_index=k.entry_index,
                revoked_entry_index=k.revoked_entry_index,
            )
            for k in key_rows
        ],
        entry_index=row.entry_index,
        position=found.position if found else None,
        shopfront_photo=found.shopfront_photo if found else None,
    )


def get_licence(session: Session, number: str) -> LicenceOut | None:
    row = session.get(Licence, number.strip().upper())
    return licence_out(row) if row is not None else None


def party_licences(
    session: Session, party_id: str, *, after: int | None = None, limit: int | None = None
) -> list[LicenceOut]:
    """In entry order; ``after``/``limit``: one keyset page (the API's)."""
    stmt = select(Licence).where(Licence.holder == party_id)
    rows = session.scalars(ascending(stmt, Licence.entry_index, after, limit)).all()
    return [licence_out(r) for r in rows]


# --- bootstrap -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bootstrap:
    party_id: str
    key_file: Path
    key_id: str
    token: str
    entry_index: int


def init_regulator(
    log: MerkleLog,
    *,
    party_id: str,
    name: str,
    credit_code: str,
    key_file: Path,
    region: str | None = None,
) -> Bootstrap:
    """Create the first regulator: key file, a self-signed ``party.register`` entry and an
    API token, the entry, the platform key's registration (if the log has none yet) and the
    token's ``token.event`` in one logged group. The only write not made through the API
    (nobody could authorise it)."""
    with Session(log.engine) as session:
        if session.scalar(select(Party).where(Party.kind == PartyKind.REGULATOR)) is not None:
            raise ValueError("a regulator is already registered: register others through the API")
    key = keys.generate()
    body = PartyBody(
        party_id=party_id,
        name=name,
        kind=PartyKind.REGULATOR,
        credit_code=credit_code,
        gln=None,
        region=region,
        grid=None,
        address=None,
        position=None,
        shopfront_photo=None,
        public_keys=[keys.public_to_b64(key)],
    ).model_dump(mode="json", exclude_none=True)
    keys.write_private(key_file, key)
    entry = entry_mod.sign(key, type="party.register", author=party_id, body=body)
    from foodtrace.auth import flows

    logger = flows.Logger(log, session_factory(log.engine), log.settings)
    index, token = flows.bootstrap(logger, entry, Role.REGULATOR, "init-regulator")
    return Bootstrap(party_id, key_file, keys.key_id(key), token.secret, index)


# --- rows for read models (the resolver's pages) ---------------------------------------------


def find_party(session: Session, id_or_credit_code: str) -> Party | None:
    """The party with this id, else the one with this unified social credit code."""
    return (
        session.get(Party, id_or_credit_code)
        or session.scalars(select(Party).where(Party.credit_code == id_or_credit_code)).first()
    )


def parties_by_id(session: Session, ids: Iterable[str]) -> list[Party]:
    """The parties with these ids (one query; unknown ids are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(Party).where(Party.party_id.in_(wanted))).all())


def parties_by_gln(session: Session, glns: Iterable[str]) -> list[Party]:
    """The parties whose GLN is one of these (one query)."""
    return list(session.scalars(select(Party).where(Party.gln.in_(list(glns)))).all())


def licence_rows(session: Session, holder: str) -> list[Licence]:
    """A holder's licences, in log order."""
    return list(
        session.scalars(
            select(Licence).where(Licence.holder == holder).order_by(Licence.entry_index)
        ).all()
    )


def signing_keys(
    session: Session, indices: Iterable[int]
) -> list[tuple[str, str, int, int | None]]:
    """``(party_id, key_id, entry_index, revoked_entry_index)`` of each registered key that
    signed one of these log entries, by the entries' indexed author and key."""
    return [
        (p, k, int(i), r)
        for p, k, i, r in session.execute(_SIGNING_KEYS, {"indices": sorted(set(indices))})
    ]


# Built once, not per call: building statements is much of a page build's CPU (cProfile).
_SIGNING_KEYS: Final = (
    select(PartyKey.party_id, PartyKey.key_id, PartyKey.entry_index, PartyKey.revoked_entry_index)
    .join(
        LogEntry,
        (LogEntry.author == PartyKey.party_id) & (LogEntry.key_id == PartyKey.key_id),
    )
    .where(LogEntry.leaf_index.in_(bindparam("indices", expanding=True)))
    .distinct()
)

"""Issue, authenticate, rotate and revoke API tokens, and the enrolment codes parties trade
for their first token: plain functions over a session.

Tokens and codes are 32 random bytes, so a fast hash is enough: nothing can be guessed from
SHA-256 of 256 random bits, and no slow KDF is needed. A token's public prefix finds its row,
a code is found by its party; the hash is compared in constant time. Functions flush but do
not commit: the caller owns the transaction. Who may call them, and logging each change, is
:mod:`foodtrace.auth.flows`'s job.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from foodtrace.auth.models import TOKEN_PREFIX_CHARS, ApiToken, EnrolmentCode, Principal, Role
from foodtrace.config import ENROLMENT_CODE_TTL_DAYS, TOKEN_TTL_DAYS
from foodtrace.store.authors import utc
from foodtrace.store.db import begin_write
from foodtrace.store.keyset import ascending

TOKEN_SCHEME = "ft_"
CODE_SCHEME = "fte_"
TOKEN_RANDOM_BYTES = 32
TOKEN_TTL = timedelta(days=TOKEN_TTL_DAYS)
CODE_TTL = timedelta(days=ENROLMENT_CODE_TTL_DAYS)
LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, not once per request."""
_TOKEN_CHARS = len(TOKEN_SCHEME) + 43  # base64url of 32 bytes, unpadded
_CODE_CHARS = len(CODE_SCHEME) + 43
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

log = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A stored time in UTC (SQLite hands them back naive)."""
    out = utc(value)
    assert out is not None
    return out


def _well_formed(secret: str, scheme: str, chars: int) -> bool:
    return (
        len(secret) == chars
        and secret.startswith(scheme)
        and _URLSAFE.issuperset(secret[len(scheme) :])
    )


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its row (metadata) and its plaintext, which is stored nowhere."""

    row: ApiToken
    secret: str


def new_token(
    session: Session,
    party_id: str,
    role: Role | str,
    name: str,
    *,
    ttl: timedelta = TOKEN_TTL,
    now: datetime | None = None,
    active: bool = False,
) -> IssuedToken:
    """Create a token for ``party_id`` with ``role``, valid for ``ttl``: inactive (it
    authenticates nothing) until its logged event activates it (:func:`activate`), unless
    ``active`` (tokens of setups and tests, which are not logged)."""
    role = Role(role)
    now = _now(now)
    token = TOKEN_SCHEME + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)
    row = ApiToken(
        party_id=party_id,
        role=role.value,
        prefix=token[:TOKEN_PREFIX_CHARS],
        token_hash=token_hash(token),
        created_at=now,
        name=name,
        expires_at=now + ttl,
        activated_at=now if active else None,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row, token)


def issue_token(
    session: Session, party_id: str, role: Role | str, name: str = "", *, ttl: timedelta = TOKEN_TTL
) -> str:
    """Create a live token and return only its plaintext (show it once): for setups and
    tests that need no metadata nor log. Logged changes go through
    :func:`foodtrace.auth.flows.issue`."""
    return new_token(session, party_id, role, name or "unnamed", ttl=ttl, active=True).secret


def _live(session: Session, token: str, now: datetime) -> ApiToken | None:
    if not _well_formed(token, TOKEN_SCHEME, _TOKEN_CHARS):
        return None
    digest = token_hash(token)
    candidates = session.scalars(
        select(ApiToken).where(
            ApiToken.prefix == token[:TOKEN_PREFIX_CHARS],
            ApiToken.activated_at.is_not(None),
            ApiToken.revoked_at.is_(None),
        )
    )
    for row in candidates:
        if hmac.compare_digest(row.token_hash, digest):
            return row if aware(row.expires_at) > now else None
    return None


def _principal(row: ApiToken) -> Principal:
    return Principal(party_id=row.party_id, role=Role(row.role), token_id=row.id)


def authenticate(session: Session, token: str, now: datetime | None = None) -> Principal | None:
    """The principal a live token acts for, or None for an unknown, malformed, expired or
    revoked token. Reads only; requests go through :func:`authenticate_request`."""
    row = _live(session, token, _now(now))
    return _principal(row) if row is not None else None


def authenticate_request(
    sessions: Callable[[], Session], token: str, now: datetime | None = None
) -> Principal | None:
    """:func:`authenticate` in a session of its own, then ``last_used_at`` refreshed if it
    is older than :data:`LAST_USED_EVERY`: one small write a minute per token, never one a
    request, made after the read has ended so no request's snapshot goes stale (SQLite)."""
    now = _now(now)
    with sessions() as session:
        row = _live(session, token, now)
        if row is None:
            return None
        principal, last_used = _principal(row), row.last_used_at
    if last_used is None or now - aware(last_used) >= LAST_USED_EVERY:
        _touch(sessions, principal.token_id, now)
    return principal


def _touch(sessions: Callable[[], Session], token_id: int, now: datetime) -> None:
    """Mark use; a failure (busy database) only delays the mark to a later request."""
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY)
    try:
        with sessions() as session, session.begin():
            begin_write(session)
            session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id, stale)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except SQLAlchemyError as exc:
        log.debug("last_used_at of token %s not updated: %s", token_id, type(exc).__name__)


def get_token(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def _changed(result: object) -> bool:
    """Whether a guarded UPDATE changed its one row (of racing writers, one does)."""
    return int(getattr(result, "rowcount", 0)) == 1


def revoke(
    session: Session, token_id: int, *, party_id: str | None = None, now: datetime | None = None
) -> bool:
    """Revoke a token; True if it was not revoked yet. With ``party_id``, only that party's
    token. A guarded UPDATE: of two requests revoking (or rotating) one token, one wins."""
    guard = [ApiToken.id == token_id, ApiToken.revoked_at.is_(None)]
    if party_id is not None:
        guard.append(ApiToken.party_id == party_id)
    return _changed(session.execute(update(ApiToken).where(*guard).values(revoked_at=_now(now))))


def activate(session: Session, token_id: int, at: datetime) -> bool:
    """Make a new token live (its event is being logged); False if it was activated already
    or withdrawn (:func:`withdraw`) before its event came in."""
    return _settle_pending(session, token_id, activated_at=at)


def withdraw(session: Session, token_id: int, now: datetime | None = None) -> bool:
    """Revoke a token whose event was not logged, so that it can never be activated by an
    entry that comes in late; False if it is active already (its event *was* logged)."""
    return _settle_pending(session, token_id, revoked_at=_now(now))


def _settle_pending(session: Session, token_id: int, **values: datetime) -> bool:
    """Set ``values`` on a token still pending (neither activated nor withdrawn): the one
    guarded UPDATE :func:`activate` and :func:`withdraw` race on, so exactly one wins."""
    return _changed(
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                ApiToken.activated_at.is_(None),
                ApiToken.revoked_at.is_(None),
            )
            .values(**values)
        )
    )


def list_tokens(
    session: Session, party_id: str, *, after: int | None = None, limit: int | None = None
) -> Sequence[ApiToken]:
    """A party's tokens, oldest first (prefix and name tell them apart; no secrets);
    ``after``/``limit``: one keyset page on the id (the API's)."""
    stmt = select(ApiToken).where(ApiToken.party_id == party_id)
    return session.scalars(ascending(stmt, ApiToken.id, after, limit)).all()


# --- enrolment codes --------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    row: EnrolmentCode
    secret: str


def new_enrolment_code(
    session: Session,
    party_id: str,
    *,
    ttl: timedelta = CODE_TTL,
    now: datetime | None = None,
    active: bool = False,
) -> IssuedCode:
    """A fresh code for ``party_id``, pending (it opens nothing) until its logged event
    activates it (:func:`activate_enrolment_code`), which also ends the party's earlier
    codes; ``active``: live at once, ending none (setups and tests, which are not logged).
    Nothing else changes here, so a code whose entry the log refuses leaves the party's
    live code working."""
    now = _now(now)
    code = CODE_SCHEME + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)
    row = EnrolmentCode(
        party_id=party_id,
        code_hash=token_hash(code),
        created_at=now,
        expires_at=now + ttl,
        activated_at=now if active else None,
    )
    session.add(row)
    session.flush()
    return IssuedCode(row, code)


def activate_enrolment_code(session: Session, code_id: int, at: datetime) -> bool:
    """Make a pending code live and supersede the party's earlier live codes (its event is
    being logged); False if it was activated already or withdrawn before its event came in.
    A guarded UPDATE, as :func:`activate` for tokens. Codes still pending are left alone:
    each supersedes the others when its own event comes in, so the last logged one wins."""
    row = session.get(EnrolmentCode, code_id)
    pending = [
        EnrolmentCode.id == code_id,
        EnrolmentCode.activated_at.is_(None),
        EnrolmentCode.revoked_at.is_(None),
    ]
    if row is None or not _changed(
        session.execute(update(EnrolmentCode).where(*pending).values(activated_at=at))
    ):
        return False
    session.execute(
        update(EnrolmentCode)
        .where(
            EnrolmentCode.party_id == row.party_id,
            EnrolmentCode.id != code_id,
            EnrolmentCode.activated_at.is_not(None),
            EnrolmentCode.used_at.is_(None),
            EnrolmentCode.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    return True


def withdraw_enrolment_code(session: Session, code_id: int) -> bool:
    """Delete a code still pending, whose event was not logged, so that an entry coming in
    late finds nothing to activate; False if it is live already (its event *was* logged)
    or gone. Of this and :func:`activate_enrolment_code`, exactly one wins."""
    return _changed(
        session.execute(
            delete(EnrolmentCode).where(
                EnrolmentCode.id == code_id, EnrolmentCode.activated_at.is_(None)
            )
        )
    )


def live_enrolment_code(
    session: Session, party_id: str, code: str, now: datetime | None = None
) -> EnrolmentCode | None:
    """``party_id``'s live code ``code``; None if it is not a live one of that party
    (unknown, pending, used, superseded or expired alike). Reads only: the code is used up by the
    enrolment's logged event (:func:`use_enrolment_code`)."""
    if not _well_formed(code, CODE_SCHEME, _CODE_CHARS):
        return None
    now = _now(now)
    digest = token_hash(code)
    rows = session.scalars(
        select(EnrolmentCode).where(
            EnrolmentCode.party_id == party_id,
            EnrolmentCode.activated_at.is_not(None),
            EnrolmentCode.used_at.is_(None),
            EnrolmentCode.revoked_at.is_(None),
        )
    )
    for row in rows:
        if hmac.compare_digest(row.code_hash, digest) and aware(row.expires_at) > now:
            return row
    return None


def use_enrolment_code(session: Session, code_id: int, at: datetime) -> bool:
    """Mark a code used; False if it is used or superseded already. A guarded UPDATE: of
    two enrolments racing with one code, one wins (the other's entry is refused)."""
    return _changed(
        session.execute(
            update(EnrolmentCode)
            .where(
                EnrolmentCode.id == code_id,
                EnrolmentCode.activated_at.is_not(None),
                EnrolmentCode.used_at.is_(None),
                EnrolmentCode.revoked_at.is_(None),
            )
            .values(used_at=at)
        )
    )

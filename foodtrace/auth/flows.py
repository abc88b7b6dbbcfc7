"""The token lifecycle as workflows: who may change which credential, the change, and its
``token.event`` entry in the log.

A party manages its own tokens; a regulator manages anyone's, and the platform's key logs
each change. A new token is written inactive and made live by its event's projector, in the
log's transaction, which also revokes the token a rotation replaces and uses up the code an
enrolment trades: without its entry, nothing is live and nothing is half done. Should the
log refuse the entry, the new token is withdrawn (never to come alive) and the error
propagates. A revocation is made at once, before its entry, and stands even if the log
refuses, because a credential that should be dead must stay dead. An enrolment code is
written pending the same way, and made live (ending the party's earlier codes) by its event
(:mod:`foodtrace.auth.codes`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from foodtrace.auth import service
from foodtrace.auth.events import ENTRY_TYPE, OPERATOR, TokenAction, event_body
from foodtrace.auth.models import ApiToken, EnrolmentCode, Principal, Role, role_for_party_kind
from foodtrace.config import Settings
from foodtrace.party.models import Party
from foodtrace.store.db import begin_write
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry

_log = logging.getLogger(__name__)
SessionFactory = Callable[[], Session]
Where = Callable[[int], str]


class NotAllowed(PermissionError):
    """The principal may not manage this party's credentials."""


class UnknownParty(LookupError):
    pass


class UnknownToken(LookupError):
    pass


class AlreadyRevoked(ValueError):
    pass


class InvalidEnrolmentCode(PermissionError):
    """Unknown, used, superseded or expired: one answer for all, so it tells a guesser
    nothing."""


@dataclass(frozen=True)
class Logger:
    """Where and as whom changes are logged."""

    log: MerkleLog
    sessions: SessionFactory
    settings: Settings

    def sign(self, type: str, body: Mapping[str, object]) -> Entry:
        """An entry signed by the platform (its key registered as an author first)."""
        from foodtrace.platformkey.signer import ensure_platform_author, platform_key

        key = platform_key(self.settings)
        with self.writing() as session:
            ensure_platform_author(session, self.settings.platform_author, key)
        return entry_mod.sign(key, type=type, author=self.settings.platform_author, body=body)

    def entries(self, bodies: Sequence[Mapping[str, object]]) -> list[Entry]:
        return [self.sign(ENTRY_TYPE, b) for b in bodies]

    @property
    def principal(self) -> Principal:
        """The platform, as the principal its entries are checked for."""
        return Principal(self.settings.platform_author, Role.REGULATOR, token_id=0)

    def append(self, entries: Sequence[Entry], where: Where | None = None) -> None:
        """Log ``entries`` as one group; ``where`` points refusals at request fields."""
        from foodtrace.record.service import entries_pointer, submit

        submit(self.log, self.sessions, self.principal, entries, where=where or entries_pointer)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that takes SQLite's write lock up front: these read, then write."""
        with self.sessions() as session, session.begin():
            begin_write(session)
            yield session


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


@dataclass(frozen=True)
class NewCode:
    party_id: str
    code: str
    expires_at: datetime


def may_manage(principal: Principal | None, party_id: str) -> None:
    """A party manages its own credentials, a regulator anyone's; operators (None) too."""
    if principal is None or principal.role is Role.REGULATOR:
        return
    if principal.party_id != party_id:
        raise NotAllowed(
            f"only {party_id} itself or a regulator may manage its tokens, not {principal.party_id}"
        )


def _by(principal: Principal | None) -> str:
    return principal.party_id if principal is not None else OPERATOR


def _party(session: Session, party_id: str) -> Party:
    party = session.get(Party, party_id)
    if party is None:
        raise UnknownParty(f"party {party_id} is not registered")
    return party


def _token_of(session: Session, party_id: str, token_id: int) -> ApiToken:
    row = service.get_token(session, token_id)
    if row is None or row.party_id != party_id:
        raise UnknownToken(f"party {party_id} has no token {token_id}")
    return row


def list_tokens(
    sessions: SessionFactory,
    principal: Principal | None,
    party_id: str,
    *,
    after: int | None = None,
    limit: int | None = None,
) -> Sequence[ApiToken]:
    """A party's tokens in id order; ``after``/``limit``: one keyset page."""
    may_manage(principal, party_id)
    with sessions() as session:
        _party(session, party_id)
        return service.list_tokens(session, party_id, after=after, limit=limit)


Pending = TypeVar("Pending", ApiToken, EnrolmentCode)


def withdrawn_pending(
    logger: Logger,
    model: type[Pending],
    row_id: int,
    withdraw: Callable[[Session, int], bool],
) -> bool:
    """Withdraw the pending token or enrolment code (``model``) of a group the log did not
    take, so that its entry cannot make it live later (a sequencer that integrates it after
    the worker gave up waiting); False if it is live already: the group was integrated after
    all. If even the withdrawal fails (the database is gone or full), the row stays pending,
    harmless (it opens nothing, and a code's secret was never handed out): True, the error
    is the caller's."""
    try:
        with logger.writing() as session:
            if withdraw(session, row_id):
                return True
            row = session.get(model, row_id)
            return row is None or row.activated_at is None
    except SQLAlchemyError as exc:
        _log.warning(
            "pending %s %s of a refused group not withdrawn: %s", model.__tablename__, row_id, exc
        )
        return True


def _withdrawn(logger: Logger, token_id: int) -> bool:
    return withdrawn_pending(logger, ApiToken, token_id, service.withdraw)


def _logged_token(
    logger: Logger,
    make: Callable[[Session], tuple[service.IssuedToken, list[dict[str, object]]]],
    refused: Callable[[Session, BaseException], None] | None = None,
    extra: Sequence[Entry] = (),
    where: Where | None = None,
    append: Callable[[list[Entry]], object] | None = None,
) -> NewToken:
    """Make an inactive token (and its event bodies) in one transaction, then log them with
    ``extra`` in one group (by ``append``, default :meth:`Logger.append`): the events'
    projector makes the token live (and the rest of the change) in the log's transaction.
    If the log refuses, the token is withdrawn and ``refused`` may name the refusal in the
    flow's terms (raise) before it propagates; a group integrated despite the error (the
    answer was lost, not the entries) succeeds."""
    with logger.writing() as session:
        issued, bodies = make(session)
    try:
        group = [*logger.entries(bodies), *extra]
        if append is None:
            logger.append(group, where)
        else:
            append(group)
    except BaseException as exc:
        if not _withdrawn(logger, issued.row.id) and isinstance(exc, Exception):
            _log.warning("token %s was logged despite %s", issued.row.id, type(exc).__name__)
            return NewToken(_settled(logger, issued.row), issued.secret)
        if refused is not None:
            with logger.sessions() as session:
                refused(session, exc)
        raise
    return NewToken(_settled(logger, issued.row), issued.secret)


def _settled(logger: Logger, row: ApiToken) -> ApiToken:
    """``row`` as its event's projector left it (activated), read back for the answer's
    metadata; ``row`` itself if it cannot be read (the answer then says pending)."""
    try:
        with logger.sessions() as session:
            fresh = session.get(ApiToken, row.id)
            if fresh is None:
                return row
            session.expunge(fresh)
            return fresh
    except SQLAlchemyError as exc:
        _log.warning("token %s not read back: %s", row.id, type(exc).__name__)
        return row


def issue(
    logger: Logger,
    principal: Principal | None,
    party_id: str,
    name: str,
    expires_in_days: int | None = None,
) -> NewToken:
    may_manage(principal, party_id)
    ttl = timedelta(days=expires_in_days or logger.settings.token_ttl_days)

    def make(session: Session) -> tuple[service.IssuedToken, list[dict[str, object]]]:
        role = role_for_party_kind(_party(session, party_id).kind)
        issued = service.new_token(session, party_id, role, name, ttl=ttl)
        body = event_body(TokenAction.ISSUE, party_id, _by(principal), token=issued.row)
        return issued, [body]

    return _logged_token(logger, make)


def bootstrap(logger: Logger, registration: Entry, role: Role, name: str) -> tuple[int, NewToken]:
    """The first regulator's token, logged in one group with ``registration``, its
    self-signed ``party.register`` (no principal exists to authorise it, so the group goes
    to the log as it is, projected by the registry): the party and its live token are stored
    together or not at all. The platform key's registration, if the log has none yet, goes
    in the same group before the token's event it signs. The index of the registration, and
    the token."""
    from foodtrace.platformkey.writes import registrations
    from foodtrace.record.registry import project

    party_id = registration.author
    ttl = timedelta(days=logger.settings.token_ttl_days)
    indices: list[int] = []

    def make(session: Session) -> tuple[service.IssuedToken, list[dict[str, object]]]:
        issued = service.new_token(session, party_id, role, name, ttl=ttl)
        return issued, [event_body(TokenAction.ISSUE, party_id, OPERATOR, token=issued.row)]

    def append(group: list[Entry]) -> None:
        platform = registrations(logger.log, logger.sessions, group)
        whole = [registration, *platform, *group]
        indices.extend(logger.log.append(whole, projectors=[project]))

    token = _logged_token(logger, make, append=append)
    return indices[0], token


def _revoked(session: Session, token_id: int) -> bool:
    row = session.get(ApiToken, token_id)
    return row is not None and row.revoked_at is not None


def rotate(
    logger: Logger,
    principal: Principal | None,
    party_id: str,
    token_id: int,
    name: str | None = None,
) -> NewToken:
    """A new token for the same party and purpose; the old one is revoked, by the logged
    event that makes the new one live (so a failed rotation leaves the old one working)."""
    may_manage(principal, party_id)
    ttl = timedelta(days=logger.settings.token_ttl_days)

    def make(session: Session) -> tuple[service.IssuedToken, list[dict[str, object]]]:
        old = _token_of(session, party_id, token_id)
        if old.revoked_at is not None:
            raise AlreadyRevoked(f"token {token_id} is already revoked")
        role = role_for_party_kind(_party(session, party_id).kind)
        issued = service.new_token(session, party_id, role, name or old.name, ttl=ttl)
        body = event_body(
            TokenAction.ROTATE, party_id, _by(principal), token=issued.row, replaces=token_id
        )
        return issued, [body]

    def refused(session: Session, exc: BaseException) -> None:
        if _revoked(session, token_id):  # revoked, or rotated, by a request that came first
            raise AlreadyRevoked(f"token {token_id} is already revoked") from exc

    return _logged_token(logger, make, refused)


def revoke(logger: Logger, principal: Principal | None, party_id: str, token_id: int) -> None:
    """Revoke at once, then log it: a credential that should be dead stays dead even if the
    log refuses (the event's projector revokes again, for a replay of the log, at the
    entry's time, which is why the entry is signed first)."""
    may_manage(principal, party_id)
    with logger.sessions() as session:
        row = _token_of(session, party_id, token_id)
        if row.revoked_at is not None:
            raise AlreadyRevoked(f"token {token_id} is already revoked")
        body = event_body(TokenAction.REVOKE, party_id, _by(principal), token=row)
    entries = logger.entries([body])
    with logger.writing() as session:
        at = entries[0].issued_datetime()
        if not service.revoke(session, token_id, party_id=party_id, now=at):
            raise AlreadyRevoked(f"token {token_id} is already revoked")
    logger.append(entries)


def enrol(
    logger: Logger,
    party_id: str,
    code: str,
    name: str,
    public_key: str | None = None,
) -> tuple[NewToken, str | None]:
    """Exchange ``party_id``'s enrolment code for its own token, registering
    ``public_key`` (a key the party generated itself) in the same logged group; the token
    and the key's id. The code is used up by the logged event, which refuses a code another
    enrolment used first: of two racing with one code, one gets a token. Refused codes
    raise :class:`InvalidEnrolmentCode`; if the group is refused for another reason (the
    key is already registered, say), the code may be used again."""
    ttl = timedelta(days=logger.settings.token_ttl_days)
    used: list[int] = []

    def make(session: Session) -> tuple[service.IssuedToken, list[dict[str, object]]]:
        party = session.get(Party, party_id)
        live = service.live_enrolment_code(session, party_id, code)
        if party is None or live is None:
            raise InvalidEnrolmentCode("the enrolment code is unknown, used or expired")
        used.append(live.id)
        role = role_for_party_kind(party.kind)
        issued = service.new_token(session, party_id, role, name, ttl=ttl)
        body = event_body(TokenAction.ENROL, party_id, party_id, token=issued.row, code=live)
        return issued, [body]

    def refused(session: Session, exc: BaseException) -> None:
        row = session.get(EnrolmentCode, used[0])
        if row is None or row.used_at is not None or row.revoked_at is not None:
            raise InvalidEnrolmentCode("the enrolment code is unknown, used or expired") from exc

    if public_key is None:
        return _logged_token(logger, make, refused), None
    key = logger.sign("party.key.register", {"party_id": party_id, "public_key": public_key})
    key_id = keys.key_id(keys.public_from_b64(public_key))
    # A refused key (already registered) is reported as the request's own field.
    return _logged_token(logger, make, refused, [key], lambda _: ""), key_id

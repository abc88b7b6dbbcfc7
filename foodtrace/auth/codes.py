"""Enrolment codes as workflows: a regulator's (or an operator's) new code for a party, and
the pending code a party's registration logs in its own group.

A code is written pending and made live by its ``token.event``'s projector, in the log's
transaction, which also ends the party's earlier codes: a code the log refuses is deleted,
opens nothing, and leaves the earlier one working.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from foodtrace.auth import service
from foodtrace.auth.events import ENTRY_TYPE, TokenAction, event_body
from foodtrace.auth.flows import Logger, NewCode, NotAllowed, _by, _party, withdrawn_pending
from foodtrace.auth.models import EnrolmentCode, Principal, Role
from foodtrace.trace.entry import Entry

_log = logging.getLogger(__name__)


def issue_code(logger: Logger, principal: Principal | None, party_id: str) -> NewCode:
    """A new enrolment code for ``party_id`` (registration, or recovery of a lost one):
    only a regulator or an operator. Written pending; its logged event makes it live and
    ends the earlier codes, in the log's transaction, so a code the log refuses never
    opens anything and the party's earlier code keeps working."""
    if principal is not None and principal.role is not Role.REGULATOR:
        raise NotAllowed("only a regulator may issue an enrolment code")
    ttl = timedelta(days=logger.settings.enrolment_code_ttl_days)
    with logger.writing() as session:
        _party(session, party_id)
        issued = service.new_enrolment_code(session, party_id, ttl=ttl)
    code = issued.row
    body = event_body(TokenAction.CODE_ISSUE, party_id, _by(principal), code=code)
    try:
        logger.append(logger.entries([body]))
    except BaseException as exc:
        if not _code_withdrawn(logger, code.id) and isinstance(exc, Exception):
            _log.warning("enrolment code %s was logged despite %s", code.id, type(exc).__name__)
            return NewCode(party_id, issued.secret, code.expires_at)
        raise
    return NewCode(party_id, issued.secret, code.expires_at)


@dataclass(frozen=True)
class PendingCode:
    """An enrolment code whose ``token.event`` is to be logged in the group of another
    write (a party's registration): its row, its secret and the signed event."""

    code: NewCode
    code_id: int
    entry: Entry


def pending_code(logger: Logger, principal: Principal | None, party_id: str) -> PendingCode:
    """The enrolment code of a party that is registered in the same logged group as the
    code's event, so that the party and its code are stored together or not at all.

    The row is committed pending (the event's projector, in the log's transaction, checks
    that it exists and makes it live); its secret is handed out only once the group is
    logged. Call :func:`withdraw_code` if the group is refused."""
    if principal is not None and principal.role is not Role.REGULATOR:
        raise NotAllowed("only a regulator may issue an enrolment code")
    ttl = timedelta(days=logger.settings.enrolment_code_ttl_days)
    with logger.writing() as session:
        issued = service.new_enrolment_code(session, party_id, ttl=ttl)
    code = issued.row
    body = event_body(TokenAction.CODE_ISSUE, party_id, _by(principal), code=code)
    return PendingCode(
        NewCode(party_id, issued.secret, code.expires_at), code.id, logger.sign(ENTRY_TYPE, body)
    )


def withdraw_code(logger: Logger, pending: PendingCode) -> bool:
    """Delete the row of a pending code whose group was refused; False if it is live (the
    group was integrated after all)."""
    return _code_withdrawn(logger, pending.code_id)


def _code_withdrawn(logger: Logger, code_id: int) -> bool:
    return withdrawn_pending(logger, EnrolmentCode, code_id, service.withdraw_enrolment_code)

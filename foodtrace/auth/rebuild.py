"""Rebuilding the credentials' state from the log, and comparing it with the live tables.

What a ``token.event`` decides (when a token became live, when it was revoked, when an
enrolment code became live, was superseded or was used) is a projection of the log: reset
for every credential the log names and replayed through
:func:`~foodtrace.auth.events.project_token_event` in log order, it comes out as the live
projector left it, times included (they are the entries' own).

Credentials the log does not name are left as they are: setup tokens made with
:func:`~foodtrace.auth.service.issue_token`, and tokens withdrawn because their entry was
refused. A revocation the log does not explain (the token was revoked at once, then the log
refused the entry) is kept: a rebuild never brings a dead token back, and
:attr:`Rebuilt.revoked_outside_log` names such tokens. Runs in the caller's transaction: a
replay that is refused (:class:`~foodtrace.record.registry.ProjectionError`) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foodtrace.auth.events import ENTRY_TYPE, TokenEventBody, project_token_event
from foodtrace.auth.models import ApiToken, EnrolmentCode
from foodtrace.store.authors import utc
from foodtrace.store.models import LogEntry
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

REPLAY_BATCH: Final = 1000


@dataclass(frozen=True)
class Rebuilt:
    replayed: int
    revoked_outside_log: list[int]
    """Tokens revoked in the tables with no revocation in the log: kept revoked."""


def _events(session: Session) -> Iterator[tuple[int, Entry]]:
    """Every ``token.event`` of the log, in log order."""
    after = -1
    while True:
        rows = session.execute(
            select(LogEntry.leaf_index, LogEntry.data)
            .where(LogEntry.type == ENTRY_TYPE, LogEntry.leaf_index > after)
            .order_by(LogEntry.leaf_index)
            .limit(REPLAY_BATCH)
        ).all()
        if not rows:
            return
        for index, data in rows:
            yield index, entry_mod.loads(bytes(data))
        after = rows[-1][0]


def _named(session: Session) -> tuple[set[int], set[int]]:
    """The tokens and the enrolment codes (issued or used) the log's events name."""
    tokens: set[int] = set()
    codes: set[int] = set()
    for _, entry in _events(session):
        body = TokenEventBody.model_validate(entry.body)
        tokens.update(t for t in (body.token_id, body.replaces) if t is not None)
        if body.code_id is not None:
            codes.add(body.code_id)
    return tokens, codes


def rebuild(session: Session) -> Rebuilt:
    """Reset and replay the state of every credential the log names (see the module)."""
    tokens, codes = _named(session)
    revoked: dict[int, datetime] = {
        token_id: at
        for token_id, at in session.execute(
            select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.id.in_(tokens))
        )
        if at is not None
    }
    session.execute(
        update(ApiToken).where(ApiToken.id.in_(tokens)).values(activated_at=None, revoked_at=None)
    )
    session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.id.in_(codes))
        .values(activated_at=None, used_at=None, revoked_at=None)
    )
    n = 0
    for index, entry in _events(session):
        project_token_event(session, index, entry)
        n += 1
    still = set(
        session.scalars(
            select(ApiToken.id).where(ApiToken.id.in_(revoked), ApiToken.revoked_at.is_not(None))
        )
    )
    outside = sorted(set(revoked) - still)
    for token_id in outside:
        session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=revoked[token_id])
        )
    return Rebuilt(n, outside)


def contents(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """The credentials' state, in UTC and sorted: what a rebuild must reproduce."""
    tokens = session.execute(
        select(ApiToken.id, ApiToken.party_id, ApiToken.activated_at, ApiToken.revoked_at)
    ).all()
    codes = session.execute(
        select(
            EnrolmentCode.id,
            EnrolmentCode.party_id,
            EnrolmentCode.activated_at,
            EnrolmentCode.used_at,
            EnrolmentCode.revoked_at,
        )
    ).all()
    return {
        "api_tokens": sorted((i, p, utc(a), utc(r)) for i, p, a, r in tokens),
        "enrolment_codes": sorted((i, p, utc(a), utc(u), utc(r)) for i, p, a, u, r in codes),
    }

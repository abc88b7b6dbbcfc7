"""``token.event`` entries: every change to a party's credentials, logged without a secret.

The platform's key signs them (the change was made by the server on a principal's request;
``by`` names who asked), so a party that holds no signing key can still enrol. The body
says which credential changed and how (its id, party, name, expiry, the action) and never
holds a token, an enrolment code, or a hash of either.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from foodtrace.auth import service
from foodtrace.auth.models import ApiToken, EnrolmentCode, Role
from foodtrace.record.registry import conflict, missing, register_type
from foodtrace.trace.entry import Entry

ENTRY_TYPE = "token.event"
OPERATOR = "operator"
"""``by`` of changes made from the command line on the server, not through the API."""


class TokenAction(StrEnum):
    CODE_ISSUE = "enrolment_code.issue"  # registration, or a regulator's re-issue
    ENROL = "enrol"  # a code exchanged for the party's own token
    ISSUE = "issue"
    ROTATE = "rotate"  # a new token replacing ``replaces``, which is revoked
    REVOKE = "revoke"


class TokenEventBody(BaseModel):
    """What changed; ``token_id`` names the token created or revoked, ``code_id`` the code."""

    model_config = ConfigDict(extra="forbid")

    action: TokenAction
    party_id: str = Field(min_length=1, max_length=128)
    by: str = Field(min_length=1, max_length=128, description="who asked for the change")
    token_id: int | None = None
    code_id: int | None = None
    name: str | None = Field(None, max_length=200)
    expires_at: datetime | None = None
    replaces: int | None = None


def event_body(
    action: TokenAction,
    party_id: str,
    by: str,
    *,
    token: ApiToken | None = None,
    code: EnrolmentCode | None = None,
    replaces: int | None = None,
) -> dict[str, Any]:
    """The body of the event for ``token`` (or ``code``): only ids, names and times."""
    expires = token.expires_at if token is not None else code.expires_at if code else None
    return TokenEventBody(
        action=action,
        party_id=party_id,
        by=by,
        token_id=token.id if token is not None else None,
        code_id=code.id if code is not None else None,
        name=token.name if token is not None else None,
        expires_at=expires,
        replaces=replaces,
    ).model_dump(mode="json", exclude_none=True)


def project_token_event(session: Session, _index: int, entry: Entry) -> None:
    """Check the event, then make its change, in the log's transaction (under a plain
    :class:`~foodtrace.store.log.MerkleLog` and under the sequencer alike): a token becomes
    live, a rotation's old token dies, an enrolment code becomes live (ending the party's
    earlier ones) and is used up only together with the entry that tells of it. Times are
    the entry's ``issued_at``, so a replay of the log (:mod:`foodtrace.auth.rebuild`) sets
    the same ones.

    The credentials an event names must exist and belong to its party (the log cannot be
    made to tell of changes that never happened), and every change is a guarded UPDATE: a
    token withdrawn before its event came in, a rotation of a token revoked meanwhile, or a
    code another enrolment used first refuses the entry, so of two racing requests one wins.
    A revocation was made at once by the flow; here it is made again, a no-op live, so that a
    replay revokes too.
    """
    body = TokenEventBody.model_validate(entry.body)
    tokens = {"token_id": body.token_id, "replaces": body.replaces}
    rows: list[tuple[str, int, ApiToken | EnrolmentCode | None]] = [
        (field, ident, session.get(ApiToken, ident))
        for field, ident in tokens.items()
        if ident is not None
    ]
    if body.code_id is not None:
        rows.append(("code_id", body.code_id, session.get(EnrolmentCode, body.code_id)))
    for field, ident, row in rows:
        if row is None or row.party_id != body.party_id:
            raise missing(field, f"party {body.party_id} has no such credential {ident}")
    _apply(session, body, entry.issued_datetime())


_CREATES = frozenset({TokenAction.ISSUE, TokenAction.ROTATE, TokenAction.ENROL})


def _apply(session: Session, body: TokenEventBody, at: datetime) -> None:
    if body.action in _CREATES:
        if body.token_id is None:
            raise missing("token_id", f"a {body.action.value} event names the token it creates")
        if not service.activate(session, body.token_id, at):
            raise conflict("token_id", f"token {body.token_id} is active or withdrawn already")
    replaced = body.replaces if body.action is TokenAction.ROTATE else None
    if replaced is not None and not service.revoke(session, replaced, now=at):
        raise conflict("replaces", f"token {replaced} is revoked already")
    if body.action is TokenAction.ENROL:
        if body.code_id is None:
            raise missing("code_id", "an enrolment event names the code it used")
        if not service.use_enrolment_code(session, body.code_id, at):
            raise conflict("code_id", f"enrolment code {body.code_id} is used or superseded")
    if body.action is TokenAction.CODE_ISSUE:
        if body.code_id is None:
            raise missing("code_id", "an enrolment code event names the code it issues")
        if not service.activate_enrolment_code(session, body.code_id, at):
            raise conflict("code_id", f"enrolment code {body.code_id} is live or withdrawn")
    if body.action is TokenAction.REVOKE and body.token_id is not None:
        service.revoke(session, body.token_id, now=at)


register_type(
    ENTRY_TYPE,
    roles=frozenset({Role.REGULATOR}),
    project=project_token_event,
    body=TokenEventBody,
)

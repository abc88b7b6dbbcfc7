"""The merchant's on-the-spot confirmation of a visit by one-time code.

When an inspector records a visit the server draws a six-digit code, stores it salted and
hashed beside the log (in the append's transaction: no visit, no code) and returns it once,
for the inspector to show. The merchant types it (no account needed); if it checks
(:func:`foodtrace.inspection.rules.check_code`), the platform signs the ``inspection.ack``
entry (``method: code``) and the code is spent in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.inspection import rules
from foodtrace.inspection.models import Inspection, InspectionAck, InspectionCode
from foodtrace.inspection.schemas import AckBody, AckMethod, ConfirmationCodeOut
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.registry import Projector
from foodtrace.record.service import RecordRef, submit
from foodtrace.store.authors import utc
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

SessionFactory = Callable[[], Session]


class NoSuchInspection(LookupError):
    pass


class AlreadyAcknowledged(Exception):
    pass


def code_keeper(now: datetime | None = None) -> tuple[ConfirmationCodeOut, Projector]:
    """A fresh code and the projector that stores it with the visit's entry."""
    now = now or datetime.now(UTC)
    code, salt = rules.new_code(), secrets.token_bytes(16)
    shown = ConfirmationCodeOut(code=code, expires_at=now + rules.CODE_TTL)

    def keep(session: Session, index: int, _: Entry) -> None:
        session.add(
            InspectionCode(
                inspection_index=index,
                code_hash=rules.hash_code(code, salt),
                salt=salt,
                expires_at=shown.expires_at,
                attempts=0,
                used_at=None,
            )
        )
        session.flush()

    return shown, keep


def confirm_by_code(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    inspection: int,
    code: str,
    now: datetime | None = None,
) -> RecordRef:
    """Acknowledge ``inspection`` by its code; raises :class:`NoSuchInspection`,
    :class:`AlreadyAcknowledged` or :class:`rules.CodeRefused` (a wrong code counts as an
    attempt, committed even though nothing is logged)."""
    now = now or datetime.now(UTC)
    with session_factory() as session, session.begin():
        visit = session.get(Inspection, inspection)
        if visit is None:
            raise NoSuchInspection(f"no inspection is recorded at entry {inspection}")
        if session.get(InspectionAck, inspection) is not None:
            raise AlreadyAcknowledged(f"inspection {inspection} is already acknowledged")
        row = session.get(InspectionCode, inspection)
        if row is None:
            raise rules.CodeRefused("this visit has no confirmation code")
        expires = utc(row.expires_at)
        assert expires is not None
        stored = rules.StoredCode(
            row.code_hash, bytes(row.salt), expires, row.attempts, utc(row.used_at)
        )
        refused: rules.CodeRefused | None = None
        try:
            rules.check_code(stored, code, now)
        except rules.CodeRefused as exc:
            row.attempts += 1  # committed as the block ends, before the refusal is raised
            refused = exc
        party_id = visit.party_id
    if refused is not None:
        raise refused
    key = platform_key(settings)
    with session_factory() as session, session.begin():
        ensure_platform_author(session, settings.platform_author, key)
    body = AckBody(
        inspection=inspection, party_id=party_id, method=AckMethod.CODE, acknowledged_at=now
    ).model_dump(mode="json")
    entry = entry_mod.sign(key, type="inspection.ack", author=settings.platform_author, body=body)

    def spend(session: Session, _: int, __: Entry) -> None:
        stored_row = session.get(InspectionCode, inspection)
        assert stored_row is not None
        stored_row.used_at = now
        session.flush()

    platform = Principal(settings.platform_author, Role.REGULATOR, token_id=0)
    [ref] = submit(log, session_factory, platform, [entry], also=spend)
    return ref

"""Filing complaints, answering them, reading them, and erasing the complainant's contact.

A complaint is logged as a ``complaint`` entry signed by the platform's own key (the public
has no key; the server vouches that it received the complaint, and when): its body holds the
tracking number, merchant, category, receipt time and salted commitments only. The log's
timestamp and order make the 30-minute response and 24-hour feedback deadlines accountable:
each answer is a ``complaint.update`` entry of the same key.

Deadlines and overdue flags come from :func:`foodtrace.complaint.clocks.deadlines`, a pure
function of the times and ``now``; nothing stores a flag that could go stale. Tracking
numbers are :mod:`foodtrace.complaint.tracking`'s, the platform's key
:mod:`foodtrace.platformkey.signer`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.complaint.clocks import RESPONSE_DEADLINE, Deadlines, deadlines
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.schemas import (
    CATEGORY_LABELS,
    STATUS_LABELS,
    Category,
    ComplaintBody,
    ComplaintIn,
    ComplaintOut,
    ComplaintStatusOut,
    ComplaintUpdateBody,
    Stage,
)
from foodtrace.complaint.tracking import new_tracking_number, normalize_tracking_number
from foodtrace.config import Settings
from foodtrace.health.models import PersonalData
from foodtrace.party.models import Party
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.registry import conflict, missing, register_type
from foodtrace.store.authors import utc
from foodtrace.store.keyset import pair_after
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import personal
from foodtrace.trace.entry import Entry

CONTACT_KIND = "contact"
DESCRIPTION_KIND = "complaint"
ERASED = "已删除"
ENTRY_TYPE = "complaint"
UPDATE_TYPE = "complaint.update"
HANDLERS = frozenset({Role.REGULATOR, Role.INSPECTOR})

SessionFactory = Callable[[], Session]


class UnknownMerchant(LookupError):
    """No registered party answers to the complaint's merchant id."""


# --- projections ------------------------------------------------------------------------------


def project_complaint(session: Session, index: int, entry: Entry) -> None:
    body = ComplaintBody.model_validate(entry.body)
    if session.get(Complaint, body.tracking_number) is not None:
        raise conflict("tracking_number", f"complaint {body.tracking_number} is already recorded")
    session.add(
        Complaint(
            tracking_number=body.tracking_number,
            merchant_id=body.merchant_id,
            category=body.category.value,
            received_at=body.received_at,
            description_commitment=body.description_commitment,
            contact_commitment=body.contact_commitment,
            entry_index=index,
        )
    )
    session.flush()
    from foodtrace.complaint.owners import route  # owners imports this module

    route(session, body.tracking_number, body.merchant_id)


def project_update(session: Session, index: int, entry: Entry) -> None:
    body = ComplaintUpdateBody.model_validate(entry.body)
    row = session.get(Complaint, body.tracking_number)
    if row is None:
        raise missing("tracking_number", f"no complaint {body.tracking_number} is recorded")
    if body.stage is Stage.RESPONSE:
        if row.responded_at is not None:
            raise conflict("stage", f"complaint {row.tracking_number} already has a response")
        row.responded_at, row.responded_by = body.at, body.by
        row.response_entry_index = index
    else:
        if row.feedback_at is not None:
            raise conflict("stage", f"complaint {row.tracking_number} already has feedback")
        row.feedback_at, row.feedback_by = body.at, body.by
        row.feedback_entry_index = index
    session.flush()


register_type(ENTRY_TYPE, roles=frozenset({Role.REGULATOR}), project=project_complaint)
register_type(UPDATE_TYPE, roles=HANDLERS, project=project_update)


# --- writes -----------------------------------------------------------------------------------


def find_merchant(session: Session, merchant_id: str) -> Party | None:
    """The party a merchant code names: by party id or by 统一社会信用代码."""
    return session.scalars(
        select(Party).where(or_(Party.party_id == merchant_id, Party.credit_code == merchant_id))
    ).first()


def _signed(
    settings: Settings, session_factory: SessionFactory, type: str, body: dict[str, Any]
) -> Entry:
    key = platform_key(settings)
    with session_factory() as session, session.begin():
        ensure_platform_author(session, settings.platform_author, key)
    return entry_mod.sign(key, type=type, author=settings.platform_author, body=body)


def file_complaint(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    data: ComplaintIn,
    now: datetime | None = None,
) -> str:
    """Log the complaint and keep its text and contact beside the log; the tracking number."""
    now = now or datetime.now(UTC)
    with session_factory() as session:
        if find_merchant(session, data.merchant_id) is None:
            raise UnknownMerchant(f"no registered merchant has the id {data.merchant_id}")
    description_commitment, description_salt = personal.commit(data.description, DESCRIPTION_KIND)
    contact: PersonalData | None = None
    if data.contact and data.contact.strip():
        commitment, salt = personal.commit(data.contact, CONTACT_KIND)
        contact = PersonalData(
            commitment=commitment, kind=CONTACT_KIND, value=data.contact, salt=salt
        )
    tracking = new_tracking_number(now.year)
    body = ComplaintBody(
        tracking_number=tracking,
        merchant_id=data.merchant_id,
        category=data.category,
        received_at=now,
        description_commitment=description_commitment,
        contact_commitment=contact.commitment if contact else None,
    ).model_dump(mode="json", exclude_none=True)
    entry = _signed(settings, session_factory, ENTRY_TYPE, body)

    def project(session: Session, index: int, e: Entry) -> None:
        project_complaint(session, index, e)
        row = session.get(Complaint, tracking)
        assert row is not None
        row.description, row.description_salt = data.description, description_salt
        if contact is not None and session.get(PersonalData, contact.commitment) is None:
            session.add(contact)
        session.flush()

    log.append([entry], projectors=[project])
    return tracking


class NotFound(LookupError):
    pass


def record_update(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    tracking_number: str,
    stage: Stage,
    by: str,
    note: str,
    now: datetime | None = None,
) -> None:
    """Log a regulator's response or feedback (the note stays beside the log)."""
    now = now or datetime.now(UTC)
    with session_factory() as session:
        row = session.get(Complaint, tracking_number)
        if row is None:
            raise NotFound(f"no complaint {tracking_number} is recorded")
    commitment, _ = personal.commit(note, "note")
    body = ComplaintUpdateBody(
        tracking_number=tracking_number, stage=stage, by=by, at=now, note_commitment=commitment
    ).model_dump(mode="json")
    entry = _signed(settings, session_factory, UPDATE_TYPE, body)

    def project(session: Session, index: int, e: Entry) -> None:
        project_update(session, index, e)
        stored = session.get(Complaint, tracking_number)
        assert stored is not None
        if stage is Stage.RESPONSE:
            stored.response_note = note
        else:
            stored.feedback_note = note
        session.flush()

    log.append([entry], projectors=[project])


# --- reads ------------------------------------------------------------------------------------


def _deadlines(row: Complaint, now: datetime) -> Deadlines:
    received = utc(row.received_at)
    assert received is not None
    return deadlines(received, utc(row.responded_at), utc(row.feedback_at), now)


def public_status(session: Session, tracking_number: str) -> ComplaintStatusOut | None:
    row = session.get(Complaint, normalize_tracking_number(tracking_number))
    if row is None:
        return None
    d = _deadlines(row, datetime.now(UTC))
    received = utc(row.received_at)
    assert received is not None
    return ComplaintStatusOut(
        tracking_number=row.tracking_number,
        status=d.status,
        status_label=STATUS_LABELS[d.status],
        received_at=received,
    )


def complaint_out(session: Session, row: Complaint, now: datetime) -> ComplaintOut:
    d = _deadlines(row, now)
    data = session.get(PersonalData, row.contact_commitment) if row.contact_commitment else None
    erased = data is not None and data.value is None
    contact = None
    if data is not None:
        contact = ERASED if data.value is None else personal.mask_phone(data.value)
    category = Category(row.category)
    received = utc(row.received_at)
    assert received is not None
    return ComplaintOut(
        tracking_number=row.tracking_number,
        merchant_id=row.merchant_id,
        category=category,
        category_label=CATEGORY_LABELS[category],
        description=row.description,
        contact=contact,
        contact_erased=erased,
        status=d.status,
        received_at=received,
        response_due=d.response_due,
        feedback_due=d.feedback_due,
        responded_at=utc(row.responded_at),
        feedback_at=utc(row.feedback_at),
        response_overdue=d.response_overdue,
        feedback_overdue=d.feedback_overdue,
        entry_index=row.entry_index,
    )


def get_complaint(
    session: Session, tracking_number: str, now: datetime | None = None
) -> ComplaintOut | None:
    row = session.get(Complaint, tracking_number)
    return complaint_out(session, row, now or datetime.now(UTC)) if row else None


def list_complaints(
    session: Session,
    *,
    now: datetime | None = None,
    merchant_id: str | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    limit: int = 100,
    before: tuple[datetime, str] | None = None,
) -> list[ComplaintOut]:
    """Newest first. ``open_only``: no feedback yet; ``overdue_only``: any stage late;
    ``before``: the (received_at, tracking_number) the previous page ended with. Read in
    LIMITed keyset chunks; for ``overdue_only`` SQL keeps a superset (answered, or past the
    response deadline) and :func:`deadlines` decides, so the rows read and dropped are at
    most those received within the feedback deadline and answered in time."""
    now = now or datetime.now(UTC)
    c = Complaint
    query = select(c)
    if merchant_id is not None:
        query = query.where(c.merchant_id == merchant_id)
    if open_only or overdue_only:
        query = query.where(c.feedback_at.is_(None))
    if overdue_only:
        query = query.where(c.responded_at.is_not(None) | (c.received_at < now - RESPONSE_DEADLINE))
    out: list[ComplaintOut] = []
    after = before
    while len(out) < limit:
        stmt = (
            query
            if after is None
            else query.where(pair_after(c.received_at, c.tracking_number, after, desc=True))
        )
        rows = session.scalars(
            stmt.order_by(c.received_at.desc(), c.tracking_number.desc()).limit(limit)
        ).all()
        for row in rows:
            item = complaint_out(session, row, now)
            if overdue_only and not (item.response_overdue or item.feedback_overdue):
                continue
            out.append(item)
            if len(out) >= limit:
                break
        if len(rows) < limit:
            break
        after = (rows[-1].received_at, rows[-1].tracking_number)
    return out

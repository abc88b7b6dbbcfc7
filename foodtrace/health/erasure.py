"""Erasing personal data (PIPL) as a logged event: a ``personal.erase`` entry names the
commitments erased, why, and who asked, but no personal value, and its projection overwrites
the values before deleting them, in the same transaction as the entry.

The platform's key signs the entry (the same key that vouches for complaints received from
the public): the erasing regulator authenticates with a token and need not hold a signing
key, and the body names that regulator as ``requested_by``. The projection leaves an
"erased" tombstone per commitment (no value, no salt) so pages can say 已删除 and a second
erasure is refused as a conflict rather than logged again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.complaint.models import Complaint
from foodtrace.complaint.service import SessionFactory, _signed
from foodtrace.config import Settings
from foodtrace.health.models import HealthCertificate, PersonalData
from foodtrace.record.registry import conflict, missing, register_type
from foodtrace.store import redact
from foodtrace.store.log import MerkleLog
from foodtrace.trace.entry import Entry

ENTRY_TYPE = "personal.erase"
DEFAULT_REASON = "data subject's request (PIPL art. 47)"
Commitment = Field(pattern=r"^[0-9a-f]{64}$")


class ErasureBody(BaseModel):
    """``personal.erase``: which commitments of which record were erased, why, by whom."""

    model_config = ConfigDict(extra="forbid")

    subject: Literal["health_certificate", "complaint"]
    record: str = Field(min_length=1, max_length=64, description="certificate or tracking no.")
    commitments: list[str] = Field(min_length=1, max_length=8)
    reason: str = Field(min_length=1, max_length=200)
    requested_by: str = Field(min_length=1, max_length=128)


class NothingToErase(LookupError):
    """The record is unknown, or everything it holds is already erased."""


def _tombstone(session: Session, commitment: str, kind: str, entry: Entry, by: str) -> None:
    row = session.get(PersonalData, commitment)
    if row is not None:
        redact.overwrite_and_delete(session, row, ("value", "salt"))
    session.add(
        PersonalData(
            commitment=commitment,
            kind=kind,
            value=None,
            salt=None,
            erased_at=entry.issued_datetime(),
            erased_by=by,
        )
    )
    session.flush()


def project_erasure(session: Session, _index: int, entry: Entry) -> None:
    body = ErasureBody.model_validate(entry.body)
    if body.subject == "health_certificate":
        cert = session.get(HealthCertificate, body.record)
        if cert is None:
            raise missing("record", f"no health certificate {body.record} is recorded")
        own = {cert.holder_commitment: "name"}
        if cert.id_commitment:
            own[cert.id_commitment] = "id_number"
    else:
        complaint = session.get(Complaint, body.record)
        if complaint is None:
            raise missing("record", f"no complaint {body.record} is recorded")
        own = {complaint.description_commitment: "complaint"}
        if complaint.contact_commitment:
            own[complaint.contact_commitment] = "contact"
    for c in body.commitments:
        if c not in own:
            raise missing("commitments", f"{c[:12]}… is not a commitment of {body.record}")
        row = session.get(PersonalData, c)
        if row is not None and row.value is None and row.erased_at is not None:
            raise conflict("commitments", f"{c[:12]}… is already erased")
        if body.subject == "complaint" and own[c] == "complaint":
            assert complaint is not None
            if complaint.description is None:
                raise conflict("commitments", f"{c[:12]}… is already erased")
            redact.overwrite(session, complaint, ("description", "description_salt"))
        _tombstone(session, c, own[c], entry, body.requested_by)


register_type(
    ENTRY_TYPE, roles=frozenset({Role.REGULATOR}), project=project_erasure, body=ErasureBody
)


def _pending(session: Session, subject: str, record: str) -> list[str]:
    """The commitments of ``record`` whose value is still stored (or, for a certificate
    whose data never reached us, not yet marked erased)."""

    def live(c: str) -> bool:
        row = session.get(PersonalData, c)
        return row is None or row.value is not None

    if subject == "health_certificate":
        cert = session.get(HealthCertificate, record)
        if cert is None:
            raise NothingToErase(f"no health certificate {record}")
        return [c for c in (cert.holder_commitment, cert.id_commitment) if c and live(c)]
    complaint = session.get(Complaint, record)
    if complaint is None:
        raise NothingToErase(f"no complaint {record}")
    out = [complaint.description_commitment] if complaint.description is not None else []
    if complaint.contact_commitment and live(complaint.contact_commitment):
        out.append(complaint.contact_commitment)
    return out


def erase(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    subject: Literal["health_certificate", "complaint"],
    record: str,
    by: str,
    reason: str = DEFAULT_REASON,
    only: set[str] | None = None,
) -> int | None:
    """Log a ``personal.erase`` entry for what ``record`` still holds (restricted to the
    commitments in ``only``) and erase it with the entry; its log index, or None when
    nothing was left to erase. :class:`NothingToErase` if the record is unknown. Call
    :func:`foodtrace.store.redact.purge_sqlite_wal` once no session is open (views: as a
    background task) so no old page image of the values stays in SQLite's WAL."""
    with session_factory() as session:
        commitments = _pending(session, subject, record)
    if only is not None:
        commitments = [c for c in commitments if c in only]
    if not commitments:
        return None
    body = ErasureBody(
        subject=subject, record=record, commitments=commitments, reason=reason, requested_by=by
    ).model_dump(mode="json")
    entry = _signed(settings, session_factory, ENTRY_TYPE, body)
    [index] = log.append([entry], projectors=[project_erasure])
    return index

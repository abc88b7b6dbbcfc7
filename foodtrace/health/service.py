"""Projecting ``health.certificate.issue`` entries, keeping the personal data beside the log,
and erasing it on request (PIPL) without touching any entry."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.health.models import HealthCertificate, PersonalData
from foodtrace.health.schemas import CertificateBody, CertificateOut
from foodtrace.party.models import Party
from foodtrace.party.status import licence_status
from foodtrace.record.registry import Projector, conflict, missing, register_type
from foodtrace.store.keyset import ascending
from foodtrace.trace import personal
from foodtrace.trace.entry import Entry

EMPLOYERS = frozenset({Role.PRODUCER})
ERASED = "已删除"


def project_certificate(session: Session, index: int, entry: Entry) -> None:
    body = CertificateBody.model_validate(entry.body)
    if session.get(Party, entry.author) is None:
        raise missing("", f"the author {entry.author} is not a registered party")
    if session.get(HealthCertificate, body.certificate_number) is not None:
        raise conflict(
            "certificate_number", f"certificate {body.certificate_number} is already recorded"
        )
    session.add(
        HealthCertificate(
            certificate_number=body.certificate_number,
            employer=entry.author,
            holder_commitment=body.holder_commitment,
            id_commitment=body.id_commitment,
            issuer=body.issuer,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            entry_index=index,
        )
    )
    session.flush()


register_type(
    "health.certificate.issue", roles=EMPLOYERS, project=project_certificate, body=CertificateBody
)


def commit_personal(value: str, kind: str) -> tuple[str, PersonalData]:
    commitment, salt = personal.commit(value, kind)
    return commitment, PersonalData(commitment=commitment, kind=kind, value=value, salt=salt)


def open_personal(
    commitment: str, value: str, salt_b64: str, kind: str, field: str
) -> PersonalData | tuple[str, str]:
    """The row to keep if ``value`` and ``salt`` open ``commitment``, else a problem."""
    try:
        salt = base64.b64decode(salt_b64, validate=True)
    except (ValueError, binascii.Error):
        return field, "expected the base64 salt of the commitment"
    if len(salt) < 16 or not personal.verify_commitment(commitment, value, salt, kind):
        return field, f"does not open the entry's commitment {commitment[:12]}…"
    return PersonalData(commitment=commitment, kind=kind, value=value, salt=salt)


def personal_projector(rows: list[PersonalData]) -> Projector:
    """A projector that stores ``rows`` with the certificate entry that commits to them.

    It runs in the append's transaction, after the certificate's own projection: a refused
    entry (a retry answered 409, say) stores nothing and deletes nothing, so it can never
    touch the personal data of the certificate it collided with. A row already present
    (same commitment, hence same value and salt) is left as it is, erased or not.
    """
    by_commitment = {row.commitment: row for row in rows}

    def project(session: Session, _index: int, entry: Entry) -> None:
        body = CertificateBody.model_validate(entry.body)
        for c in (body.holder_commitment, body.id_commitment):
            row = by_commitment.get(c) if c else None
            if row is not None and session.get(PersonalData, row.commitment) is None:
                session.add(
                    PersonalData(
                        commitment=row.commitment, kind=row.kind, value=row.value, salt=row.salt
                    )
                )
        session.flush()

    return project


def certificate_out(session: Session, row: HealthCertificate) -> CertificateOut:
    name = session.get(PersonalData, row.holder_commitment)
    id_row = session.get(PersonalData, row.id_commitment) if row.id_commitment else None
    erased = name is None or name.value is None
    status = licence_status(row.valid_from, row.valid_until, None, datetime.now(UTC).date())
    return CertificateOut(
        certificate_number=row.certificate_number,
        employer=row.employer,
        holder=ERASED if erased or name is None else personal.mask_name(name.value or ""),
        holder_id_number=(
            None
            if row.id_commitment is None
            else ERASED
            if id_row is None or id_row.value is None
            else personal.mask_id_number(id_row.value)
        ),
        holder_commitment=row.holder_commitment,
        issuer=row.issuer,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        status=status.value,
        personal_data_erased=erased,
        entry_index=row.entry_index,
    )


def get_certificate(session: Session, number: str) -> CertificateOut | None:
    row = session.get(HealthCertificate, number)
    return certificate_out(session, row) if row else None


def employer_certificates(
    session: Session, party_id: str, *, after: int | None = None, limit: int | None = None
) -> list[CertificateOut]:
    """In entry order; ``after``/``limit``: one keyset page (the API's)."""
    stmt = select(HealthCertificate).where(HealthCertificate.employer == party_id)
    rows = session.scalars(ascending(stmt, HealthCertificate.entry_index, after, limit)).all()
    return [certificate_out(session, r) for r in rows]


def employer_certificate_rows(
    session: Session, party_id: str
) -> list[tuple[HealthCertificate, str | None]]:
    """An employer's certificates, latest expiry first, each with its holder's name (None
    once erased): the rows a page masks the name of."""
    rows = session.scalars(
        select(HealthCertificate)
        .where(HealthCertificate.employer == party_id)
        .order_by(HealthCertificate.valid_until.desc())
    ).all()
    out = []
    for row in rows:
        name = session.get(PersonalData, row.holder_commitment)
        out.append((row, name.value if name is not None else None))
    return out

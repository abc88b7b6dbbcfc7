"""A licence's status on a given day: a pure function, so pages, alerts and tests agree."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

EXPIRING_WITHIN = timedelta(days=30)


class LicenceStatus(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid, but expires within EXPIRING_WITHIN
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_YET_VALID = "not_yet_valid"


def licence_status(
    valid_from: date, valid_until: date, revoked_on: date | None, today: date
) -> LicenceStatus:
    """Revocation wins; ``valid_until`` is the last valid day."""
    if revoked_on is not None and revoked_on <= today:
        return LicenceStatus.REVOKED
    if today > valid_until:
        return LicenceStatus.EXPIRED
    if today < valid_from:
        return LicenceStatus.NOT_YET_VALID
    if valid_until - today < EXPIRING_WITHIN:
        return LicenceStatus.EXPIRING
    return LicenceStatus.VALID

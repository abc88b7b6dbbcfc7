"""The pure rules of a visit: its 量化分级 face, the annual face from 12 months of visits,
when a failed visit is inspected again, and the one-time confirmation code.

Time is passed in; nothing here reads a clock or a database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from foodtrace.inspection.schemas import Face, InspectionResult

FACE_OF: dict[InspectionResult, Face] = {
    InspectionResult.PASS: Face.GOOD,
    InspectionResult.MINOR: Face.FAIR,
    InspectionResult.FAIL: Face.POOR,
}
FACE_POINTS: dict[Face, int] = {Face.GOOD: 2, Face.FAIR: 1, Face.POOR: 0}
ANNUAL_WINDOW = timedelta(days=365)
ANNUAL_GOOD_MEAN = 1.5  # mean points at or above this: 良好
ANNUAL_FAIR_MEAN = 0.75  # at or above this: 一般; below: 较差
REINSPECTION_DAYS = 15
"""A 不合格 visit without corrective deadlines is inspected again within this many days."""

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=15)
CODE_ATTEMPTS = 5
"""Wrong codes tolerated before the code is void: 5 guesses in 10^6 within 15 minutes."""


def dynamic_face(result: InspectionResult) -> Face:
    """合格 → 良好, 基本合格 → 一般, 不合格 → 较差."""
    return FACE_OF[result]


def annual_face(visits: Iterable[tuple[date, InspectionResult]], today: date) -> Face | None:
    """The face of the 12 months up to ``today``: the mean of the visits' points (良好 2,
    一般 1, 较差 0) against the two thresholds above; None with no visit in the window."""
    since = today - ANNUAL_WINDOW
    points = [FACE_POINTS[FACE_OF[r]] for d, r in visits if since < d <= today]
    if not points:
        return None
    mean = sum(points) / len(points)
    if mean >= ANNUAL_GOOD_MEAN:
        return Face.GOOD
    return Face.FAIR if mean >= ANNUAL_FAIR_MEAN else Face.POOR


def reinspection_due(
    result: InspectionResult, inspected_on: date, deadlines: Iterable[date]
) -> date | None:
    """A 不合格 visit is followed by a re-inspection on the day after its last corrective
    deadline, or ``REINSPECTION_DAYS`` after the visit when it set none; other visits need
    none."""
    if result is not InspectionResult.FAIL:
        return None
    last = max(deadlines, default=None)
    return (
        last + timedelta(days=1)
        if last is not None
        else inspected_on + timedelta(days=REINSPECTION_DAYS)
    )


# --- the one-time code ----------------------------------------------------------------------


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    return f"{randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(code: str, salt: bytes) -> str:
    return hashlib.sha256(salt + code.encode()).hexdigest()


class CodeRefused(ValueError):
    """The code cannot acknowledge the visit; the message says why."""


@dataclass(frozen=True)
class StoredCode:
    code_hash: str
    salt: bytes
    expires_at: datetime
    attempts: int
    used_at: datetime | None


def check_code(stored: StoredCode, code: str, now: datetime) -> None:
    """Raise :class:`CodeRefused` unless ``code`` is the stored one, unused, unexpired and
    not void after too many wrong attempts (the caller counts a refusal as an attempt)."""
    if stored.used_at is not None:
        raise CodeRefused("this code was already used")
    if now > stored.expires_at:
        raise CodeRefused(f"the code expired at {stored.expires_at.isoformat()}")
    if stored.attempts >= CODE_ATTEMPTS:
        raise CodeRefused(f"the code is void after {CODE_ATTEMPTS} wrong attempts")
    if not hmac.compare_digest(hash_code(code, stored.salt), stored.code_hash):
        left = CODE_ATTEMPTS - stored.attempts - 1
        raise CodeRefused(f"wrong code ({left} attempts left)")

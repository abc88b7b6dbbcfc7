"""What counts as an alert, and the 穿透式监管 ladder: pure functions of facts and ``now``.

Alerts are not stored: each is derived from the projections whenever asked, so none goes
stale. Only the ladder's steps are logged (``alert.escalate``), because a business must be
able to see, and prove, that it was warned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

EXPIRY_HORIZON = timedelta(days=30)
TEMPERATURE_WINDOW = timedelta(days=7)
STEP_INTERVAL = timedelta(days=3)
"""An alert still open this long after the last step climbs one more step."""
LADDER_RESET = timedelta(days=90)
"""A business with no step for this long starts again at 提醒."""


class Kind(StrEnum):
    LICENCE_EXPIRING = "licence_expiring"
    LICENCE_EXPIRED = "licence_expired"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    CERTIFICATE_EXPIRED = "certificate_expired"
    TEMPERATURE_EXCURSION = "temperature_excursion"
    CLONE_SUSPECT = "clone_suspect"
    COMPLAINT_OVERDUE = "complaint_overdue"
    INSPECTION_DUE = "inspection_due"
    INSPECTION_OVERDUE = "inspection_overdue"
    RECALL_STEP_OVERDUE = "recall_step_overdue"
    INSPECTION_UNACKNOWLEDGED = "inspection_unacknowledged"


class Step(StrEnum):
    """The ladder, in order."""

    REMIND = "提醒"
    WARN = "警示"
    INTERVIEW = "约谈"
    INSPECT = "检查"


LADDER = list(Step)


@dataclass(frozen=True)
class Alert:
    kind: Kind
    party_id: str | None
    subject: str  # what it is about: a licence number, a code, a tracking number…
    detail: str
    since: datetime | date | None = None


def expiry(
    kind: tuple[Kind, Kind], party_id: str, subject: str, valid_until: date, today: date
) -> Alert | None:
    """``kind`` is (expiring, expired): expired once ``valid_until`` has passed, expiring
    when it falls within ``EXPIRY_HORIZON`` of ``today``."""
    expiring, expired = kind
    if valid_until < today:
        return Alert(
            expired, party_id, subject, f"expired on {valid_until.isoformat()}", valid_until
        )
    if valid_until - today <= EXPIRY_HORIZON:
        days = (valid_until - today).days
        return Alert(expiring, party_id, subject, f"expires in {days} days", valid_until)
    return None


def excursion(value: float, low: float, high: float) -> str | None:
    """Why a temperature (°C) is out of the cold-chain range, or None."""
    if value < low:
        return f"{value:g} °C below {low:g} °C"
    if value > high:
        return f"{value:g} °C above {high:g} °C"
    return None


def next_step(last: tuple[Step, datetime] | None, open_alerts: int, now: datetime) -> Step | None:
    """The step to log now for a business with ``open_alerts`` alerts, given its last step.

    No alerts: none. No step yet, or none for ``LADDER_RESET``: 提醒. Otherwise, once
    ``STEP_INTERVAL`` has passed with alerts still open (unanswered, or repeated), the next
    step up; the ladder stops at 检查."""
    if open_alerts == 0:
        return None
    if last is None or now - last[1] >= LADDER_RESET:
        return Step.REMIND
    step, at = last
    if now - at < STEP_INTERVAL or step is Step.INSPECT:
        return None
    return LADDER[LADDER.index(step) + 1]

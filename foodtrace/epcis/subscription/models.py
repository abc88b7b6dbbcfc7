"""Named queries and their webhook subscriptions.

A subscription remembers the last event it delivered by record id (``epcis_events.id``,
assigned in commit order by the one log writer) and advances that mark only after the
subscriber's webhook answered 2xx: a delivery that failed is sent again (at least once),
one that was acknowledged never is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.epcis.models import ID_CHARS
from foodtrace.store.base import Base

NAME_CHARS = 128


class NamedQuery(Base):
    """A SimpleEventQuery stored under a name; ``params`` is the JSON query object."""

    __tablename__ = "epcis_queries"

    name: Mapped[str] = mapped_column(String(NAME_CHARS), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    params: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Subscription(Base):
    """A webhook that receives the new events matching a named query."""

    __tablename__ = "epcis_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    query_name: Mapped[str] = mapped_column(
        ForeignKey("epcis_queries.name", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[str] = mapped_column(String(128), index=True)
    dest: Mapped[str] = mapped_column(String(ID_CHARS))
    signature_token: Mapped[str | None] = mapped_column(String(256))
    report_if_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    stream: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule: Mapped[str | None] = mapped_column(Text)  # JSON query-schedule, when not stream
    initial_record_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_through: Mapped[int] = mapped_column(Integer, default=0)
    """The highest event record id the subscriber acknowledged."""
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

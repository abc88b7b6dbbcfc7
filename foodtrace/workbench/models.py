"""Workbench sessions ended by logout (the cookie itself is stateless: see
:mod:`foodtrace.workbench.session`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from foodtrace.store.base import Base


class EndedSession(Base):
    """A logged-out session, by its nonce: a copy of its cookie is refused until the cookie
    would have expired, after which the row is of no use and is pruned."""

    __tablename__ = "workbench_ended_sessions"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

"""Workbench logout ends the session on the server: the nonces of ended sessions, kept
until the cookie would have expired anyway.

Revision ID: 0025_workbench_session
Revises: 0018_trace_read
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_workbench_session"
down_revision = "0018_trace_read"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workbench_ended_sessions",
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_workbench_ended_sessions")),
    )
    op.create_index(
        op.f("ix_workbench_ended_sessions_expires_at"), "workbench_ended_sessions", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_workbench_ended_sessions_expires_at"), table_name="workbench_ended_sessions"
    )
    op.drop_table("workbench_ended_sessions")

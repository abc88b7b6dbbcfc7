"""The sequencer's durable queue and the election epochs (fencing tokens).

Revision ID: 0017_sequencer
Revises: 0009_recalls
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_sequencer"
down_revision = "0009_recalls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sequencer_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("leaves", sa.Text(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("first_index", sa.BigInteger(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sequencer_queue_state", "sequencer_queue", ["state"])
    op.create_table(
        "election_epochs",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("election_epochs")
    op.drop_index("ix_sequencer_queue_state", table_name="sequencer_queue")
    op.drop_table("sequencer_queue")

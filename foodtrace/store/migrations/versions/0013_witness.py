"""Witness cosignatures the log collected, per witness and checkpoint size.

Revision ID: 0013_witness
Revises: 0010_epcis_query
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_witness"
down_revision = "0010_epcis_query"
branch_labels = None
depends_on = None

LogIndex = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "witness_cosignatures",
        sa.Column("witness", sa.String(255), nullable=False),
        sa.Column("tree_size", LogIndex, nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("witness", "tree_size", name=op.f("pk_witness_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("witness_cosignatures")

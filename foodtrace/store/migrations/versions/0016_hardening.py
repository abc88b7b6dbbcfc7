"""Uploaded files per party (quota, garbage collection of unreferenced files).

Revision ID: 0016_hardening
Revises: 0017_sequencer
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_hardening"
down_revision = "0017_sequencer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_uploads",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=128), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "party", name=op.f("pk_blob_uploads")),
    )
    op.create_index(op.f("ix_blob_uploads_party"), "blob_uploads", ["party"])


def downgrade() -> None:
    op.drop_index(op.f("ix_blob_uploads_party"), table_name="blob_uploads")
    op.drop_table("blob_uploads")

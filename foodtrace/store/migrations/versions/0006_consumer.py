"""Consumers: complaints, scan counts for clone detection, and issued serial codes.

Revision ID: 0006_consumer
Revises: 0005_anchors
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_consumer"
down_revision = "0005_anchors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("tracking_number", sa.String(24), nullable=False),
        sa.Column("merchant_id", sa.String(128), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description_commitment", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("description_salt", sa.LargeBinary(64), nullable=True),
        sa.Column("contact_commitment", sa.String(64), nullable=True),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by", sa.String(128), nullable=True),
        sa.Column("response_note", sa.Text(), nullable=True),
        sa.Column("response_entry_index", sa.BigInteger(), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_by", sa.String(128), nullable=True),
        sa.Column("feedback_note", sa.Text(), nullable=True),
        sa.Column("feedback_entry_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tracking_number", name=op.f("pk_complaints")),
    )
    op.create_index(op.f("ix_complaints_merchant_id"), "complaints", ["merchant_id"])
    op.create_index(op.f("ix_complaints_received_at"), "complaints", ["received_at"])
    op.create_table(
        "scan_counts",
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("scans", sa.BigInteger(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("suspect", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_key", name=op.f("pk_scan_counts")),
    )
    op.create_index(op.f("ix_scan_counts_suspect"), "scan_counts", ["suspect"])
    op.create_table(
        "scan_places",
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("code_key", "region", name=op.f("pk_scan_places")),
    )
    op.create_table(
        "scan_buckets",
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_key", "bucket", name=op.f("pk_scan_buckets")),
    )
    op.create_table(
        "issued_serials",
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("lot_code", sa.String(20), nullable=False),
        sa.Column("issued_by", sa.String(128), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gtin", "serial", name=op.f("pk_issued_serials")),
    )
    op.create_index(op.f("ix_issued_serials_lot_code"), "issued_serials", ["lot_code"])


def downgrade() -> None:
    op.drop_table("issued_serials")
    op.drop_table("scan_buckets")
    op.drop_table("scan_places")
    op.drop_table("scan_counts")
    op.drop_table("complaints")

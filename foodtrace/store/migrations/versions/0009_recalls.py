"""GS1 company prefixes and recall cases.

Revision ID: 0009_recalls
Revises: 0008_provenance
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_recalls"
down_revision = "0008_provenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_prefixes",
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("assigned_by", sa.String(128), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_company_prefixes")),
    )
    op.create_index(op.f("ix_company_prefixes_party_id"), "company_prefixes", ["party_id"])
    op.create_table(
        "recalls",
        sa.Column("recall_id", sa.String(24), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("lot_code", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("initiator", sa.String(128), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("close_entry_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("recall_id", name=op.f("pk_recalls")),
    )
    op.create_index(op.f("ix_recalls_gtin"), "recalls", ["gtin"])
    op.create_table(
        "recall_lots",
        sa.Column("recall_id", sa.String(24), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("lot_code", sa.String(20), nullable=False),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("event_hash_id", sa.String(128), nullable=False),
        sa.Column("event_entry_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["recalls.recall_id"], name=op.f("fk_recall_lots_recall_id_recalls")
        ),
        sa.PrimaryKeyConstraint("recall_id", "gtin", "lot_code", name=op.f("pk_recall_lots")),
    )
    op.create_index(op.f("ix_recall_lots_lot_code"), "recall_lots", ["lot_code"])
    op.create_index(op.f("ix_recall_lots_holder"), "recall_lots", ["holder"])
    op.create_table(
        "recall_parties",
        sa.Column("recall_id", sa.String(24), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("received", sa.Text(), nullable=False),
        sa.Column("recovered", sa.Text(), nullable=False),
        sa.Column("destroyed", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_entry_index", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("last_report_entry_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recalls.recall_id"],
            name=op.f("fk_recall_parties_recall_id_recalls"),
        ),
        sa.PrimaryKeyConstraint("recall_id", "party_id", name=op.f("pk_recall_parties")),
    )
    op.create_index(op.f("ix_recall_parties_party_id"), "recall_parties", ["party_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recall_parties_party_id"), table_name="recall_parties")
    op.drop_table("recall_parties")
    op.drop_index(op.f("ix_recall_lots_holder"), table_name="recall_lots")
    op.drop_index(op.f("ix_recall_lots_lot_code"), table_name="recall_lots")
    op.drop_table("recall_lots")
    op.drop_index(op.f("ix_recalls_gtin"), table_name="recalls")
    op.drop_table("recalls")
    op.drop_index(op.f("ix_company_prefixes_party_id"), table_name="company_prefixes")
    op.drop_table("company_prefixes")

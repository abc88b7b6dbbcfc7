"""GS1 company prefixes and recall cases.

Revision ID: 0009_recalls
Revises: 0007_resolve_indexes
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_recalls"
down_revision = "0007_resolve_indexes"
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


def downgrade() -> None:
    op.drop_index(op.f("ix_company_prefixes_party_id"), table_name="company_prefixes")
    op.drop_table("company_prefixes")

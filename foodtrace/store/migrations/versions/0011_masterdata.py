"""EPCIS master data: one row per vocabulary element (site, product, party), latest entry wins.

Revision ID: 0011_masterdata
Revises: 0007_resolve_indexes
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_masterdata"
down_revision = "0007_resolve_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "masterdata_elements",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("element_id", sa.String(300), nullable=False),
        sa.Column("key", sa.String(14), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("category", sa.String(100)),
        sa.Column("specification", sa.String(200)),
        sa.Column("street", sa.String(300)),
        sa.Column("city", sa.String(100)),
        sa.Column("country_code", sa.String(2)),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "element_id", name=op.f("pk_masterdata_elements")),
    )
    op.create_index(op.f("ix_masterdata_elements_key"), "masterdata_elements", ["key"])
    op.create_index(op.f("ix_masterdata_elements_author"), "masterdata_elements", ["author"])


def downgrade() -> None:
    op.drop_index(op.f("ix_masterdata_elements_author"), table_name="masterdata_elements")
    op.drop_index(op.f("ix_masterdata_elements_key"), table_name="masterdata_elements")
    op.drop_table("masterdata_elements")

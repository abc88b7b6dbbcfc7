"""The page read model: merchant and lot pages stored encoded, and the subjects they show.

Revision ID: 0029_page_readmodel
Revises: 0025_workbench_session
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_page_readmodel"
down_revision = "0025_workbench_session"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_views",
        sa.Column("page_key", sa.String(300), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("code_url", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("split", sa.Integer(), nullable=True),
        sa.Column("latest_from", sa.Text(), nullable=False),
        sa.Column("built_size", sa.BigInteger(), nullable=False),
        sa.Column("anchor", sa.String(300), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("floating", sa.Boolean(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("page_key", "mode", name=op.f("pk_page_views")),
    )
    op.create_index(op.f("ix_page_views_stale"), "page_views", ["stale"])
    op.create_table(
        "page_view_subjects",
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("page_key", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("subject", "page_key", name=op.f("pk_page_view_subjects")),
    )
    op.create_index(op.f("ix_page_view_subjects_page_key"), "page_view_subjects", ["page_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_page_view_subjects_page_key"), "page_view_subjects")
    op.drop_table("page_view_subjects")
    op.drop_index(op.f("ix_page_views_stale"), "page_views")
    op.drop_table("page_views")

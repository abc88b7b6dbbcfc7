"""API tokens of parties (hashed) with their roles.

Revision ID: 0002_auth
Revises: 0001_log
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_auth"
down_revision = "0001_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(11), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.CheckConstraint(
            "role IN ('regulator', 'inspector', 'lab', 'producer')",
            name=op.f("ck_api_tokens_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_party_id"), "api_tokens", ["party_id"])
    op.create_index(op.f("ix_api_tokens_prefix"), "api_tokens", ["prefix"])


def downgrade() -> None:
    op.drop_table("api_tokens")

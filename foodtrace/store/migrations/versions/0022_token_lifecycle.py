"""Token lifecycle: tokens get a name, an expiry and a last-used time; enrolment codes.

Tokens issued before this revision never expired: they now expire the token lifetime
(90 days) after the upgrade, so nobody is locked out on the day of the upgrade, and are
named after their old label, or "legacy" if they had none.

Revision ID: 0022_token_lifecycle
Revises: 0016_hardening
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0022_token_lifecycle"
down_revision = "0016_hardening"
branch_labels = None
depends_on = None

LEGACY_TTL = timedelta(days=90)  # foodtrace.config.TOKEN_TTL_DAYS when this was written
LEGACY_NAME = "legacy"


def upgrade() -> None:
    expires = datetime.now(UTC) + LEGACY_TTL
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("label", new_column_name="name", existing_type=sa.String(200))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("name", sa.String(200)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    op.execute(tokens.update().values(expires_at=expires))
    op.execute(tokens.update().where(tokens.c.name == "").values(name=LEGACY_NAME))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_table(
        "enrolment_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_codes")),
    )
    op.create_index(op.f("ix_enrolment_codes_party_id"), "enrolment_codes", ["party_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_enrolment_codes_party_id"), table_name="enrolment_codes")
    op.drop_table("enrolment_codes")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.alter_column("name", new_column_name="label", existing_type=sa.String(200))

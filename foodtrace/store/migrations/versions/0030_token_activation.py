"""Token activation: a token authenticates only once its ``token.event`` is in the log.

``api_tokens.activated_at`` is set by the event's projector in the log's transaction; rows
from before this revision were made live by the old flow, so they count as activated when
they were created.

Revision ID: 0030_token_activation
Revises: 0029_page_readmodel
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_token_activation"
down_revision = "0029_page_readmodel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("activated_at", sa.DateTime(timezone=True)),
    )
    op.execute(tokens.update().values(activated_at=tokens.c.created_at))


def downgrade() -> None:
    # Before this revision every row not revoked was live: tokens never activated (their
    # entry was refused, or not yet integrated) must not come alive on the way down.
    tokens = sa.table(
        "api_tokens",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
        sa.column("activated_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        tokens.update()
        .where(tokens.c.activated_at.is_(None), tokens.c.revoked_at.is_(None))
        .values(revoked_at=tokens.c.created_at)
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("activated_at")

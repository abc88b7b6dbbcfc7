"""Enrolment code activation: a code opens an enrolment only once its ``token.event`` is in
the log, as tokens do since 0030.

``enrolment_codes.activated_at`` is set by the event's projector in the log's transaction
(which also supersedes the party's earlier codes); rows from before this revision were
committed live by the old flow, so they count as activated when they were created.

Revision ID: 0033_enrolment_code_activation
Revises: 0032_grade_input_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_enrolment_code_activation"
down_revision = "0032_grade_input_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrolment_codes") as batch:
        batch.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    codes = sa.table(
        "enrolment_codes",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("activated_at", sa.DateTime(timezone=True)),
    )
    op.execute(codes.update().values(activated_at=codes.c.created_at))


def downgrade() -> None:
    # Before this revision every row neither used nor revoked was live: codes still pending
    # (their entry refused, or not yet integrated) must not come alive on the way down.
    codes = sa.table(
        "enrolment_codes",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
        sa.column("activated_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        codes.update()
        .where(codes.c.activated_at.is_(None), codes.c.revoked_at.is_(None))
        .values(revoked_at=codes.c.created_at)
    )
    with op.batch_alter_table("enrolment_codes") as batch:
        batch.drop_column("activated_at")

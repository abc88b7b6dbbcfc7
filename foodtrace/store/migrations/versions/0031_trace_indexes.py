"""Trace indexes: a covering ``lineage_activities(node_id, party)`` (the parties a trace
names, read from the index alone) and a partial ``custody_holds(node_id, since_entry,
holder) WHERE until IS NULL`` (a reached node's open holds, in the order a trace lists
them, without visiting the closed ones).

Revision ID: 0031_trace_indexes
Revises: 0030_token_activation
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_trace_indexes"
down_revision = "0030_token_activation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lineage_activities_node_party", "lineage_activities", ["node_id", "party"])
    op.create_index(
        "ix_custody_holds_open",
        "custody_holds",
        ["node_id", "since_entry", "holder"],
        sqlite_where=sa.text("until IS NULL"),
        postgresql_where=sa.text("until IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_custody_holds_open", table_name="custody_holds")
    op.drop_index("ix_lineage_activities_node_party", table_name="lineage_activities")

"""The trace read model: one summary document per lineage node (``trace_nodes``), filled
from the existing projection tables so that traces answer at once after the upgrade.

Revision ID: 0018_trace_read
Revises: 0023_limits
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from foodtrace.trace.trace_read import Activity, OutEdge, summarize

revision = "0018_trace_read"
down_revision = "0023_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_nodes",
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["lineage_nodes.id"], name=op.f("fk_trace_nodes_node_id_lineage_nodes")
        ),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_trace_nodes")),
    )
    _backfill()


def _backfill() -> None:
    """Summaries of every node already projected (the pure ``summarize`` the projector
    uses). A database with millions of activities is better rebuilt with
    ``foodtrace rebuild-provenance``; this reads them once, node by node in memory."""
    bind = op.get_bind()
    dt = sa.DateTime(timezone=True)
    acts: dict[int, list[Activity]] = defaultdict(list)
    for node, *row in bind.execute(
        sa.text(
            "SELECT node_id, id, party, role, entry_index, time, quantity, uom, counterparty "
            "FROM lineage_activities"
        ).columns(time=dt)
    ):
        acts[node].append(Activity(*row))
    out: dict[int, list[OutEdge]] = defaultdict(list)
    for node, *row in bind.execute(
        sa.text(
            "SELECT e.from_node, e.id, n.canonical, e.kind, e.entry_index, e.party, e.quantity, "
            "e.uom, e.time FROM lineage_edges e JOIN lineage_nodes n ON n.id = e.to_node"
        ).columns(time=dt)
    ):
        out[node].append(OutEdge(*row))
    nodes = [n for (n,) in bind.execute(sa.text("SELECT id FROM lineage_nodes"))]
    table = sa.table("trace_nodes", sa.column("node_id"), sa.column("summary"))
    rows = [{"node_id": n, "summary": summarize(acts[n], out[n])} for n in nodes]
    for i in range(0, len(rows), 5000):
        bind.execute(sa.insert(table), rows[i : i + 5000])


def downgrade() -> None:
    op.drop_table("trace_nodes")

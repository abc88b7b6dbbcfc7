"""Provenance: the lineage graph (nodes, edges, activities, business transactions) and
custody (holds, shipments in transit, containment), projected from ``lot.create`` and
``epcis.event`` entries and rebuildable from the log.

Revision ID: 0008_provenance
Revises: 0013_witness
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_provenance"
down_revision = "0013_witness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_nodes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("canonical", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("lot_code", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_nodes")),
        sa.UniqueConstraint("canonical", name=op.f("uq_lineage_nodes_canonical")),
    )
    op.create_index(
        "ix_lineage_nodes_gtin_lot", "lineage_nodes", ["gtin", "lot_code"], unique=False
    )
    op.create_table(
        "custody_containment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("child", sa.Integer(), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=False),
        sa.Column(
            "since_entry", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "until_entry", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["child"], ["lineage_nodes.id"], name=op.f("fk_custody_containment_child_lineage_nodes")
        ),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["lineage_nodes.id"],
            name=op.f("fk_custody_containment_parent_lineage_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_containment")),
    )
    op.create_index(
        op.f("ix_custody_containment_child"), "custody_containment", ["child"], unique=False
    )
    op.create_index(
        "ix_custody_containment_parent",
        "custody_containment",
        ["parent", "until_entry"],
        unique=False,
    )
    op.create_table(
        "custody_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "since_entry", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "until_entry", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_id"], ["lineage_nodes.id"], name=op.f("fk_custody_holds_node_id_lineage_nodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_holds")),
    )
    op.create_index(op.f("ix_custody_holds_holder"), "custody_holds", ["holder"], unique=False)
    op.create_index("ix_custody_holds_node", "custody_holds", ["node_id", "holder"], unique=False)
    op.create_table(
        "custody_transits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("shipper", sa.String(length=128), nullable=False),
        sa.Column("consignees", sa.String(length=512), nullable=False),
        sa.Column("carriers", sa.String(length=512), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "shipment_entry", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column(
            "received_entry", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("received_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["lineage_nodes.id"],
            name=op.f("fk_custody_transits_node_id_lineage_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_transits")),
    )
    op.create_index(
        "ix_custody_transits_node", "custody_transits", ["node_id", "received_entry"], unique=False
    )
    op.create_table(
        "lineage_activities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "entry_index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("counterparty", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["lineage_nodes.id"],
            name=op.f("fk_lineage_activities_node_id_lineage_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_activities")),
    )
    op.create_index(
        "ix_lineage_activities_node", "lineage_activities", ["node_id", "entry_index"], unique=False
    )
    op.create_index(
        "ix_lineage_activities_party", "lineage_activities", ["party", "node_id"], unique=False
    )
    op.create_table(
        "lineage_edges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("from_node", sa.Integer(), nullable=False),
        sa.Column("to_node", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "entry_index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("party", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_node"],
            ["lineage_nodes.id"],
            name=op.f("fk_lineage_edges_from_node_lineage_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["to_node"], ["lineage_nodes.id"], name=op.f("fk_lineage_edges_to_node_lineage_nodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_edges")),
    )
    op.create_index(
        "ix_lineage_edges_from", "lineage_edges", ["from_node", "to_node"], unique=False
    )
    op.create_index("ix_lineage_edges_to", "lineage_edges", ["to_node", "from_node"], unique=False)
    op.create_table(
        "lineage_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("biz_transaction", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=512), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column(
            "entry_index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["lineage_nodes.id"],
            name=op.f("fk_lineage_transactions_node_id_lineage_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_transactions")),
    )
    op.create_index(
        "ix_lineage_transactions_id",
        "lineage_transactions",
        ["biz_transaction", "node_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("lineage_transactions")
    op.drop_table("lineage_edges")
    op.drop_table("lineage_activities")
    op.drop_table("custody_transits")
    op.drop_table("custody_holds")
    op.drop_table("custody_containment")
    op.drop_table("lineage_nodes")

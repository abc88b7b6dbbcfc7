"""The regulator's daily work: inspection checklists, acknowledgements (双签) and one-time
codes; grids and their businesses; complaint owners, confirmations, ratings and escalations;
the alert escalation ladder.

Revision ID: 0024_regulator
Revises: 0022_token_lifecycle (re-chained in workbench so that both merged branches have one head)
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_regulator"
down_revision = "0022_token_lifecycle"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}")
    )


def upgrade() -> None:
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("checklist", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("corrective_actions", sa.JSON(), nullable=True))
    op.create_table(
        "inspection_acks",
        sa.Column("inspection_index", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        _fk("inspection_acks", "inspection_index", "inspections.entry_index"),
        sa.PrimaryKeyConstraint("inspection_index", name=op.f("pk_inspection_acks")),
        sa.UniqueConstraint("entry_index", name=op.f("uq_inspection_acks_entry_index")),
    )
    op.create_table(
        "inspection_codes",
        sa.Column("inspection_index", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _fk("inspection_codes", "inspection_index", "inspections.entry_index"),
        sa.PrimaryKeyConstraint("inspection_index", name=op.f("pk_inspection_codes")),
    )
    op.create_table(
        "grids",
        sa.Column("grid_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("station", sa.String(200), nullable=False),
        sa.Column("officer", sa.String(128), nullable=False),
        sa.Column("grid_worker", sa.String(128), nullable=False),
        sa.Column("station_head", sa.String(128), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        _fk("grids", "officer", "parties.party_id"),
        _fk("grids", "grid_worker", "parties.party_id"),
        _fk("grids", "station_head", "parties.party_id"),
        sa.PrimaryKeyConstraint("grid_id", name=op.f("pk_grids")),
    )
    op.create_table(
        "grid_members",
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("grid_id", sa.String(64), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        _fk("grid_members", "party_id", "parties.party_id"),
        _fk("grid_members", "grid_id", "grids.grid_id"),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_grid_members")),
    )
    op.create_index(op.f("ix_grid_members_grid_id"), "grid_members", ["grid_id"])
    op.create_table(
        "complaint_routes",
        sa.Column("tracking_number", sa.String(24), nullable=False),
        sa.Column("grid_id", sa.String(64), nullable=False),
        sa.Column("officer", sa.String(128), nullable=False),
        sa.Column("grid_worker", sa.String(128), nullable=False),
        sa.Column("station_head", sa.String(128), nullable=False),
        sa.Column("officer_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("officer_entry_index", sa.BigInteger(), nullable=True),
        sa.Column("worker_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker_entry_index", sa.BigInteger(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating_entry_index", sa.BigInteger(), nullable=True),
        sa.Column("response_escalated_entry_index", sa.BigInteger(), nullable=True),
        sa.Column("feedback_escalated_entry_index", sa.BigInteger(), nullable=True),
        _fk("complaint_routes", "tracking_number", "complaints.tracking_number"),
        _fk("complaint_routes", "grid_id", "grids.grid_id"),
        sa.PrimaryKeyConstraint("tracking_number", name=op.f("pk_complaint_routes")),
    )
    op.create_index(op.f("ix_complaint_routes_grid_id"), "complaint_routes", ["grid_id"])
    op.create_table(
        "alert_escalations",
        sa.Column("entry_index", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("step", sa.String(8), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _fk("alert_escalations", "party_id", "parties.party_id"),
        sa.PrimaryKeyConstraint("entry_index", name=op.f("pk_alert_escalations")),
    )
    op.create_index(op.f("ix_alert_escalations_party_id"), "alert_escalations", ["party_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_escalations_party_id"), "alert_escalations")
    op.drop_table("alert_escalations")
    op.drop_index(op.f("ix_complaint_routes_grid_id"), "complaint_routes")
    op.drop_table("complaint_routes")
    op.drop_index(op.f("ix_grid_members_grid_id"), "grid_members")
    op.drop_table("grid_members")
    op.drop_table("grids")
    op.drop_table("inspection_codes")
    op.drop_table("inspection_acks")
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("corrective_actions")
        batch.drop_column("checklist")

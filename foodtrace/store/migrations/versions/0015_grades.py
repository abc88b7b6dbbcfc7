"""Computed credit grades, penalties, complaint findings, credit repair, the recompute
bookmark, and 双随机 draws.

Revision ID: 0015_grades
Revises: 0011_masterdata
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_grades"
down_revision = "0011_masterdata"
branch_labels = None
depends_on = None


def _party_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["party_id"], ["parties.party_id"], name=op.f(f"fk_{table}_party_id_parties")
    )


def upgrade() -> None:
    op.create_table(
        "computed_grades",
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        _party_fk("computed_grades"),
        sa.PrimaryKeyConstraint("entry_index", name=op.f("pk_computed_grades")),
    )
    op.create_index(op.f("ix_computed_grades_party_id"), "computed_grades", ["party_id"])
    op.create_table(
        "penalties",
        sa.Column("decision_number", sa.String(64), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("regulator", sa.String(128), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("repaired_entry_index", sa.BigInteger(), nullable=True),
        _party_fk("penalties"),
        sa.PrimaryKeyConstraint("decision_number", name=op.f("pk_penalties")),
    )
    op.create_index(op.f("ix_penalties_party_id"), "penalties", ["party_id"])
    op.create_table(
        "complaint_findings",
        sa.Column("tracking_number", sa.String(24), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("substantiated", sa.Boolean(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("handler", sa.String(128), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tracking_number", name=op.f("pk_complaint_findings")),
    )
    op.create_index(op.f("ix_complaint_findings_party_id"), "complaint_findings", ["party_id"])
    op.create_table(
        "repair_applications",
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("penalties", sa.JSON(), nullable=False),
        sa.Column("corrective_action", sa.Text(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decision_entry_index", sa.BigInteger(), nullable=True),
        _party_fk("repair_applications"),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_repair_applications")),
    )
    op.create_index(op.f("ix_repair_applications_party_id"), "repair_applications", ["party_id"])
    op.create_table(
        "grading_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("log_size", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_state")),
    )
    op.create_table(
        "draws",
        sa.Column("draw_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("commitment", sa.JSON(), nullable=False),
        sa.Column("committed_by", sa.String(128), nullable=False),
        sa.Column("commit_entry_index", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("result_entry_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("draw_id", name=op.f("pk_draws")),
    )
    op.create_index(op.f("ix_draws_period"), "draws", ["period"])


def downgrade() -> None:
    op.drop_index(op.f("ix_draws_period"), table_name="draws")
    op.drop_table("draws")
    op.drop_table("grading_state")
    op.drop_index(op.f("ix_repair_applications_party_id"), table_name="repair_applications")
    op.drop_table("repair_applications")
    op.drop_index(op.f("ix_complaint_findings_party_id"), table_name="complaint_findings")
    op.drop_table("complaint_findings")
    op.drop_index(op.f("ix_penalties_party_id"), table_name="penalties")
    op.drop_table("penalties")
    op.drop_index(op.f("ix_computed_grades_party_id"), table_name="computed_grades")
    op.drop_table("computed_grades")

"""Clone detection by client network: short-lived sightings (a keyed hash of the /24 or /48)
replace the client-supplied regions and the scan-count buckets; a flag can be cleared.

Revision ID: 0023_limits
Revises: 0024_regulator
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_limits"
down_revision = "0024_regulator"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("scan_buckets")
    op.drop_table("scan_places")
    op.create_table(
        "scan_sightings",
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_key", "network", name=op.f("pk_scan_sightings")),
    )
    op.create_index(op.f("ix_scan_sightings_last_at"), "scan_sightings", ["last_at"])
    with op.batch_alter_table("scan_counts") as batch:
        batch.add_column(sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cleared_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("cleared_entry", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_counts") as batch:
        batch.drop_column("cleared_entry")
        batch.drop_column("cleared_by")
        batch.drop_column("cleared_at")
    op.drop_index(op.f("ix_scan_sightings_last_at"), table_name="scan_sightings")
    op.drop_table("scan_sightings")
    op.create_table(
        "scan_places",
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("code_key", "region", name=op.f("pk_scan_places")),
    )
    op.create_table(
        "scan_buckets",
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_key", "bucket", name=op.f("pk_scan_buckets")),
    )

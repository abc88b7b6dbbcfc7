"""EPCIS events index (events, EPCs, parties, sensor readings) and capture jobs.

Revision ID: 0004_epcis
Revises: 0003_records
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_epcis"
down_revision = "0003_records"
branch_labels = None
depends_on = None

LogIndex = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = 512
EVENT_FK = "epcis_events.id"


def _child(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["event_pk"],
            [EVENT_FK],
            name=op.f(f"fk_{name}_event_pk_epcis_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_event_pk"), name, ["event_pk"])


def upgrade() -> None:
    op.create_table(
        "epcis_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hash_id", sa.String(128), nullable=False),
        sa.Column("event_id", sa.String(ID), nullable=False),
        sa.Column("declares_error", sa.Boolean(), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("biz_step", sa.String(ID), nullable=True),
        sa.Column("disposition", sa.String(ID), nullable=True),
        sa.Column("read_point", sa.String(ID), nullable=True),
        sa.Column("biz_location", sa.String(ID), nullable=True),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("entry_index", LogIndex, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_events")),
        sa.UniqueConstraint("hash_id", "declares_error", name=op.f("uq_epcis_events_hash_id")),
        sa.UniqueConstraint("entry_index", name=op.f("uq_epcis_events_entry_index")),
    )
    for column in ("event_id", "type", "biz_step", "disposition", "biz_location", "author"):
        op.create_index(op.f(f"ix_epcis_events_{column}"), "epcis_events", [column])
    op.create_index("ix_epcis_events_time_id", "epcis_events", ["event_time", "id"])
    _child(
        "epcis_event_epcs",
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("is_class", sa.Boolean(), nullable=False),
        sa.Column("epc", sa.String(ID), nullable=False),
        sa.Column("canonical", sa.String(ID), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=True),
        sa.Column("lot", sa.String(128), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(16), nullable=True),
    )
    op.create_index(op.f("ix_epcis_event_epcs_canonical"), "epcis_event_epcs", ["canonical"])
    op.create_index(op.f("ix_epcis_event_epcs_lot"), "epcis_event_epcs", ["lot"])
    _child(
        "epcis_event_parties",
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("type", sa.String(ID), nullable=False),
        sa.Column("party", sa.String(ID), nullable=False),
    )
    op.create_index(op.f("ix_epcis_event_parties_party"), "epcis_event_parties", ["party"])
    _child(
        "epcis_sensor_readings",
        sa.Column("type", sa.String(ID), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(16), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.String(ID), nullable=True),
        sa.Column("component", sa.String(ID), nullable=True),
    )
    op.create_table(
        "epcis_capture_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document_id", sa.String(ID), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("entry_indices", sa.Text(), nullable=False),
        sa.Column("event_ids", sa.Text(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_capture_jobs")),
    )
    op.create_index(op.f("ix_epcis_capture_jobs_party_id"), "epcis_capture_jobs", ["party_id"])


def downgrade() -> None:
    for table in (
        "epcis_capture_jobs",
        "epcis_sensor_readings",
        "epcis_event_parties",
        "epcis_event_epcs",
        "epcis_events",
    ):
        op.drop_table(table)

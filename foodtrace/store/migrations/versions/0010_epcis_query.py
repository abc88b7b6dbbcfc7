"""The rest of the EPCIS 2.0 query language: index tables for persistent dispositions,
business transactions, error declarations, extension fields and sensor reports; indexes on
readPoint and recordTime; named queries and webhook subscriptions.

Revision ID: 0010_epcis_query
Revises: 0015_grades
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_epcis_query"
down_revision = "0015_grades"
branch_labels = None
depends_on = None

ID = 512
TEXT = 512
EVENT_FK = "epcis_events.id"
CHILDREN = (
    "epcis_event_biz_transactions",
    "epcis_event_persistent_dispositions",
    "epcis_event_corrections",
    "epcis_event_fields",
    "epcis_event_sensor_reports",
)


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


def _text(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(TEXT), nullable=True)


def _float(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Float(), nullable=True)


def _time(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_index("ix_epcis_events_read_point", "epcis_events", ["read_point"])
    op.create_index("ix_epcis_events_record_time_id", "epcis_events", ["record_time", "id"])
    op.create_table(
        "epcis_event_details",
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("transformation_id", sa.String(ID), nullable=True),
        _time("error_declaration_time"),
        sa.Column("error_reason", sa.String(ID), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_pk"],
            [EVENT_FK],
            name=op.f("fk_epcis_event_details_event_pk_epcis_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_pk", name=op.f("pk_epcis_event_details")),
    )
    op.create_index(
        "ix_epcis_event_details_transformation_id", "epcis_event_details", ["transformation_id"]
    )
    op.create_index(
        "ix_epcis_event_details_error_declaration_time",
        "epcis_event_details",
        ["error_declaration_time"],
    )
    _child(
        "epcis_event_biz_transactions",
        sa.Column("type", sa.String(ID), nullable=False),
        sa.Column("biz_transaction", sa.String(ID), nullable=False),
    )
    op.create_index(
        "ix_epcis_event_biz_transactions_id",
        "epcis_event_biz_transactions",
        ["biz_transaction", "type"],
    )
    _child(
        "epcis_event_persistent_dispositions",
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("disposition", sa.String(ID), nullable=False),
    )
    op.create_index(
        "ix_epcis_event_persistent_dispositions",
        "epcis_event_persistent_dispositions",
        ["disposition", "op"],
    )
    _child(
        "epcis_event_corrections", sa.Column("corrective_event_id", sa.String(ID), nullable=False)
    )
    op.create_index(
        "ix_epcis_event_corrections_corrective_event_id",
        "epcis_event_corrections",
        ["corrective_event_id"],
    )
    _child(
        "epcis_event_fields",
        sa.Column("scope", sa.String(24), nullable=False),
        sa.Column("inner", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(ID), nullable=False),
        sa.Column("key", sa.String(ID), nullable=False),
        _text("text"),
        _float("number"),
        _time("time"),
    )
    op.create_index("ix_epcis_event_fields_text", "epcis_event_fields", ["name", "text"])
    op.create_index("ix_epcis_event_fields_number", "epcis_event_fields", ["name", "number"])
    op.create_index("ix_epcis_event_fields_key", "epcis_event_fields", ["key"])
    _child(
        "epcis_event_sensor_reports",
        sa.Column("element", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(ID), nullable=True),
        sa.Column("uom", sa.String(16), nullable=True),
        *(
            _text(n)
            for n in (
                "device_id",
                "device_metadata",
                "raw_data",
                "data_processing_method",
                "biz_rules",
                "microorganism",
                "chemical_substance",
                "component",
                "string_value",
                "hex_binary_value",
                "uri_value",
                "coordinate_reference_system",
                "exception",
            )
        ),
        sa.Column("boolean_value", sa.Boolean(), nullable=True),
        *(
            _float(n)
            for n in (
                "value",
                "min_value",
                "max_value",
                "mean_value",
                "s_dev",
                "perc_value",
                "perc_rank",
            )
        ),
        _time("time"),
        _time("start_time"),
        _time("end_time"),
    )
    op.create_index(
        "ix_epcis_event_sensor_reports_type_value", "epcis_event_sensor_reports", ["type", "value"]
    )
    op.create_index(
        "ix_epcis_event_sensor_reports_device_id", "epcis_event_sensor_reports", ["device_id"]
    )
    op.create_table(
        "epcis_queries",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_epcis_queries")),
    )
    op.create_index("ix_epcis_queries_party_id", "epcis_queries", ["party_id"])
    op.create_table(
        "epcis_subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("query_name", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("dest", sa.String(ID), nullable=False),
        sa.Column("signature_token", sa.String(256), nullable=True),
        sa.Column("report_if_empty", sa.Boolean(), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=True),
        _time("initial_record_time"),
        sa.Column("delivered_through", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["query_name"],
            ["epcis_queries.name"],
            name=op.f("fk_epcis_subscriptions_query_name_epcis_queries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_subscriptions")),
    )
    op.create_index("ix_epcis_subscriptions_query_name", "epcis_subscriptions", ["query_name"])
    op.create_index("ix_epcis_subscriptions_party_id", "epcis_subscriptions", ["party_id"])


def downgrade() -> None:
    op.drop_table("epcis_subscriptions")
    op.drop_table("epcis_queries")
    for name in reversed(CHILDREN):
        op.drop_table(name)
    op.drop_table("epcis_event_details")
    op.drop_index("ix_epcis_events_record_time_id", table_name="epcis_events")
    op.drop_index("ix_epcis_events_read_point", table_name="epcis_events")

"""A lot's events from one index: (lot, gtin, event_pk) replaces the index on lot alone.

The resolver's lot page asked for the events naming a lot with a correlated EXISTS, which
SQLite ran as a scan of every event in time order (0.8 s at 1M events); it now selects the
event ids from this covering index and fetches those events by primary key.

Revision ID: 0007_resolve_indexes
Revises: 0006_consumer
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007_resolve_indexes"
down_revision = "0006_consumer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_epcis_event_epcs_lot_gtin", "epcis_event_epcs", ["lot", "gtin", "event_pk"])
    op.drop_index("ix_epcis_event_epcs_lot", table_name="epcis_event_epcs")


def downgrade() -> None:
    op.create_index("ix_epcis_event_epcs_lot", "epcis_event_epcs", ["lot"])
    op.drop_index("ix_epcis_event_epcs_lot_gtin", table_name="epcis_event_epcs")

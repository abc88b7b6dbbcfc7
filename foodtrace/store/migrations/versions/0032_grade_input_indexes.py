"""Indexes a regrade of a few businesses needs to read only their rows.

A regrade on write (foodtrace.grading.hook) gathers one business's inputs. Two of them are
reached from the business's EPCIS events through the lots they name: failed test reports
about a lot, found by (GTIN, lot, conclusion) then the window (the lot first: with the
conclusion first SQLite chose that index for both halves of the report query and read
every failed report); and the business's events in the policy window, by (author, event
time). Without the first, every failed report was read for each regrade; the second
replaces the author-only index (its leading column).

Revision ID: 0032_grade_input_indexes
Revises: 0031_trace_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0032_grade_input_indexes"
down_revision = "0031_trace_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_reports_lot_conclusion",
        "reports",
        ["subject_gtin", "subject_lot", "conclusion", "tested_on"],
    )
    op.create_index("ix_epcis_events_author_time", "epcis_events", ["author", "event_time"])
    op.drop_index(op.f("ix_epcis_events_author"), table_name="epcis_events")


def downgrade() -> None:
    op.create_index(op.f("ix_epcis_events_author"), "epcis_events", ["author"])
    op.drop_index("ix_epcis_events_author_time", table_name="epcis_events")
    op.drop_index("ix_reports_lot_conclusion", table_name="reports")

"""Domain records projected from entries: parties, keys, licences, products, lots, test
reports, health certificates (and the erasable personal data), inspections, credit grades,
and the server-held keys of custodial parties.

Revision ID: 0003_records
Revises: 0002_auth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_records"
down_revision = "0002_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custodial_keys",
        sa.Column("party_id", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("party_id", "key_id", name=op.f("pk_custodial_keys")),
    )
    op.create_table(
        "parties",
        sa.Column("party_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("grid", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_parties")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_parties_credit_code")),
    )
    op.create_table(
        "personal_data",
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("salt", sa.LargeBinary(length=64), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("commitment", name=op.f("pk_personal_data")),
    )
    op.create_table(
        "credit_grades",
        sa.Column("entry_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("party_id", sa.String(length=128), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_credit_grades_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("entry_index", name=op.f("pk_credit_grades")),
    )
    op.create_index(op.f("ix_credit_grades_party_id"), "credit_grades", ["party_id"], unique=False)
    op.create_table(
        "health_certificates",
        sa.Column("certificate_number", sa.String(length=64), nullable=False),
        sa.Column("employer", sa.String(length=128), nullable=False),
        sa.Column("holder_commitment", sa.String(length=64), nullable=False),
        sa.Column("id_commitment", sa.String(length=64), nullable=True),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer"], ["parties.party_id"], name=op.f("fk_health_certificates_employer_parties")
        ),
        sa.PrimaryKeyConstraint("certificate_number", name=op.f("pk_health_certificates")),
    )
    op.create_index(
        op.f("ix_health_certificates_employer"), "health_certificates", ["employer"], unique=False
    )
    op.create_table(
        "inspections",
        sa.Column("entry_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("inspector", sa.String(length=128), nullable=False),
        sa.Column("party_id", sa.String(length=128), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector"], ["parties.party_id"], name=op.f("fk_inspections_inspector_parties")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_inspections_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("entry_index", name=op.f("pk_inspections")),
    )
    op.create_index(op.f("ix_inspections_party_id"), "inspections", ["party_id"], unique=False)
    op.create_table(
        "licences",
        sa.Column("number", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("revoked_entry_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder"], ["parties.party_id"], name=op.f("fk_licences_holder_parties")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_licences")),
    )
    op.create_index(op.f("ix_licences_holder"), "licences", ["holder"], unique=False)
    op.create_table(
        "party_keys",
        sa.Column("party_id", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.Column("revoked_entry_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_party_keys_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "key_id", name=op.f("pk_party_keys")),
    )
    op.create_table(
        "products",
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("producer", sa.String(length=128), nullable=False),
        sa.Column("specification", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["producer"], ["parties.party_id"], name=op.f("fk_products_producer_parties")
        ),
        sa.PrimaryKeyConstraint("gtin", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_producer"), "products", ["producer"], unique=False)
    op.create_table(
        "reports",
        sa.Column("report_number", sa.String(length=64), nullable=False),
        sa.Column("lab", sa.String(length=128), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject_gtin", sa.String(length=14), nullable=True),
        sa.Column("subject_lot", sa.String(length=20), nullable=True),
        sa.Column("subject_party", sa.String(length=128), nullable=True),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("conclusion", sa.String(length=8), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["lab"], ["parties.party_id"], name=op.f("fk_reports_lab_parties")),
        sa.PrimaryKeyConstraint("report_number", name=op.f("pk_reports")),
    )
    op.create_index(op.f("ix_reports_lab"), "reports", ["lab"], unique=False)
    op.create_index(op.f("ix_reports_subject_party"), "reports", ["subject_party"], unique=False)
    op.create_table(
        "lots",
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot_code", sa.String(length=20), nullable=False),
        sa.Column("producer", sa.String(length=128), nullable=False),
        sa.Column("production_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["gtin"], ["products.gtin"], name=op.f("fk_lots_gtin_products")),
        sa.ForeignKeyConstraint(
            ["producer"], ["parties.party_id"], name=op.f("fk_lots_producer_parties")
        ),
        sa.PrimaryKeyConstraint("gtin", "lot_code", name=op.f("pk_lots")),
    )
    op.create_index(op.f("ix_lots_producer"), "lots", ["producer"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_lots_producer"), table_name="lots")
    op.drop_table("lots")
    op.drop_index(op.f("ix_reports_subject_party"), table_name="reports")
    op.drop_index(op.f("ix_reports_lab"), table_name="reports")
    op.drop_table("reports")
    op.drop_index(op.f("ix_products_producer"), table_name="products")
    op.drop_table("products")
    op.drop_table("party_keys")
    op.drop_index(op.f("ix_licences_holder"), table_name="licences")
    op.drop_table("licences")
    op.drop_index(op.f("ix_inspections_party_id"), table_name="inspections")
    op.drop_table("inspections")
    op.drop_index(op.f("ix_health_certificates_employer"), table_name="health_certificates")
    op.drop_table("health_certificates")
    op.drop_index(op.f("ix_credit_grades_party_id"), table_name="credit_grades")
    op.drop_table("credit_grades")
    op.drop_table("personal_data")
    op.drop_table("parties")
    op.drop_table("custodial_keys")

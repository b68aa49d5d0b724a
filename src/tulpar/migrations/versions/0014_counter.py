"""counter: store sales, fiscal registrations and day close

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_PROVIDERS_BEFORE = "'sandbox', 'stripe', 'wallet'"
_PROVIDERS_AFTER = "'sandbox', 'stripe', 'wallet', 'cash', 'card_terminal'"


def _providers(values: str) -> None:
    op.execute("ALTER TABLE payments DROP CONSTRAINT ck_payments_payment_provider")
    op.execute(
        "ALTER TABLE payments ADD CONSTRAINT ck_payments_payment_provider"
        f" CHECK (provider IN ({values}))"
    )


def upgrade() -> None:
    # Money taken at a store's counter: cash, or a card on the store's own terminal.
    _providers(_PROVIDERS_AFTER)
    op.create_table(
        "counter_sales",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("store_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("terminal_reference", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('cash', 'card_terminal')", name=op.f("ck_counter_sales_method")
        ),
        sa.CheckConstraint(
            "(method = 'card_terminal') = (terminal_reference IS NOT NULL)",
            name=op.f("ck_counter_sales_terminal_reference_iff_terminal"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_counter_sales_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_counter_sales_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_counter_sales_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_sales")),
        sa.UniqueConstraint("order_id", name=op.f("uq_counter_sales_order_id")),
        sa.UniqueConstraint("staff_id", "idempotency_key", name=op.f("uq_counter_sales_staff_id")),
    )
    op.create_index(
        "ix_counter_sales_store_id_business_date", "counter_sales", ["store_id", "business_date"]
    )
    op.create_table(
        "fiscal_registrations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("store_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("fiscal_sign", sa.String(length=64), nullable=True),
        sa.Column("registration_number", sa.String(length=64), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'registered')", name=op.f("ck_fiscal_registrations_state")
        ),
        sa.CheckConstraint(
            "(state = 'registered') = (fiscal_sign IS NOT NULL)",
            name=op.f("ck_fiscal_registrations_sign_iff_registered"),
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_fiscal_registrations_receipt_id_receipts"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_fiscal_registrations_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fiscal_registrations")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_fiscal_registrations_receipt_id")),
    )
    op.create_table(
        "day_closes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger(), nullable=False),
        # None: the whole store's day; else one clerk's.
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("closed_by", sa.String(length=120), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reopened_by", sa.String(length=120), nullable=True),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('closed', 'reopened')", name=op.f("ck_day_closes_state")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_day_closes_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_day_closes_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_day_closes")),
    )
    # A store receipt keeps the store's legal details as they were when it was issued
    # (NULL: the default seller from the settings, every receipt before this migration).
    op.add_column("receipts", sa.Column("seller_legal_name", sa.String(length=200), nullable=True))
    op.add_column("receipts", sa.Column("seller_bin", sa.String(length=12), nullable=True))
    op.add_column("receipts", sa.Column("seller_address", sa.String(length=400), nullable=True))
    op.create_check_constraint(
        op.f("ck_receipts_seller_all_or_none"),
        "receipts",
        "(seller_legal_name IS NULL) = (seller_bin IS NULL)"
        " AND (seller_bin IS NULL) = (seller_address IS NULL)",
    )
    # One close per store day (staff_id NULL) and per clerk day.
    op.create_index(
        "uq_day_closes_store_day_staff",
        "day_closes",
        ["store_id", "business_date", sa.text("coalesce(staff_id, 0)")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_receipts_seller_all_or_none"), "receipts", type_="check")
    for column in ("seller_address", "seller_bin", "seller_legal_name"):
        op.drop_column("receipts", column)
    op.drop_index("uq_day_closes_store_day_staff", table_name="day_closes")
    op.drop_table("day_closes")
    op.drop_table("fiscal_registrations")
    op.drop_index("ix_counter_sales_store_id_business_date", table_name="counter_sales")
    op.drop_table("counter_sales")
    _providers(_PROVIDERS_BEFORE)

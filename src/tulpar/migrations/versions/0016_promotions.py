"""promotions: promotions, redemptions and the promotion frozen on an order

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "promotions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("names", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("automatic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("plan_codes", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("channels", postgresql.ARRAY(sa.String(length=8)), nullable=True),
        sa.Column("payment_methods", postgresql.ARRAY(sa.String(length=16)), nullable=True),
        sa.Column("early_renewal_days", sa.BigInteger(), nullable=True),
        sa.Column("first_purchase", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "effect_kind",
            _enum("promotion_effect_kind", "none", "percent", "fixed"),
            nullable=False,
        ),
        _count("effect_value"),
        _count("bonus_data_bytes"),
        _count("bonus_days"),
        sa.Column("per_card_limit", sa.BigInteger(), nullable=True),
        sa.Column("total_limit", sa.BigInteger(), nullable=True),
        sa.Column("budget_minor", sa.BigInteger(), nullable=True),
        _count("redeemed_count"),
        _count("spent_minor"),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(effect_kind = 'none' AND effect_value = 0)"
            " OR (effect_kind = 'percent' AND effect_value BETWEEN 1 AND 100)"
            " OR (effect_kind = 'fixed' AND effect_value > 0)",
            name=op.f("ck_promotions_effect_value_fits_kind"),
        ),
        sa.CheckConstraint(
            "effect_kind <> 'none' OR bonus_data_bytes > 0 OR bonus_days > 0",
            name=op.f("ck_promotions_has_an_effect"),
        ),
        sa.CheckConstraint(
            "names ?& array['zh-Hans', 'ru', 'kk', 'en']",
            name=op.f("ck_promotions_names_in_all_languages"),
        ),
        sa.CheckConstraint(
            "(per_card_limit IS NULL OR per_card_limit > 0)"
            " AND (total_limit IS NULL OR total_limit > 0)"
            " AND (budget_minor IS NULL OR budget_minor > 0)",
            name=op.f("ck_promotions_limits_positive"),
        ),
        sa.CheckConstraint(
            "automatic OR code IS NOT NULL", name=op.f("ck_promotions_code_or_automatic")
        ),
        sa.CheckConstraint(
            "bonus_data_bytes >= 0 AND bonus_days >= 0",
            name=op.f("ck_promotions_bonus_non_negative"),
        ),
        sa.CheckConstraint(
            "early_renewal_days IS NULL OR early_renewal_days > 0",
            name=op.f("ck_promotions_early_renewal_days_positive"),
        ),
        sa.CheckConstraint(
            "redeemed_count >= 0 AND spent_minor >= 0",
            name=op.f("ck_promotions_counters_non_negative"),
        ),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at",
            name=op.f("ck_promotions_window_ordered"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
        sa.UniqueConstraint("code", name=op.f("uq_promotions_code")),
    )
    op.create_table(
        "promotion_redemptions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("promotion_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            _enum("promotion_redemption_state", "held", "redeemed", "released"),
            nullable=False,
        ),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "discount_minor >= 0", name=op.f("ck_promotion_redemptions_discount_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_promotion_redemptions_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_promotion_redemptions_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_redemptions_promotion_id_promotions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_redemptions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_promotion_redemptions_order_id")),
    )
    op.create_index(
        "ix_promotion_redemptions_promotion_id",
        "promotion_redemptions",
        ["promotion_id", "card_id", "state"],
        unique=False,
    )
    # The promotion frozen on an order. Orders placed before keep list_amount_minor NULL.
    op.add_column("orders", sa.Column("promotion_id", sa.BigInteger(), nullable=True))
    op.add_column("orders", sa.Column("list_amount_minor", sa.BigInteger(), nullable=True))
    op.add_column("orders", _count("discount_minor"))
    op.add_column("orders", _count("bonus_data_bytes"))
    op.add_column("orders", _count("bonus_days"))
    op.create_foreign_key(
        op.f("fk_orders_promotion_id_promotions"), "orders", "promotions", ["promotion_id"], ["id"]
    )
    op.create_check_constraint(
        op.f("ck_orders_discount_non_negative"), "orders", "discount_minor >= 0"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_orders_discount_non_negative"), "orders", type_="check")
    op.drop_constraint(op.f("fk_orders_promotion_id_promotions"), "orders", type_="foreignkey")
    for column in ("bonus_days", "bonus_data_bytes", "discount_minor", "list_amount_minor"):
        op.drop_column("orders", column)
    op.drop_column("orders", "promotion_id")
    op.drop_index("ix_promotion_redemptions_promotion_id", table_name="promotion_redemptions")
    op.drop_table("promotion_redemptions")
    op.drop_table("promotions")

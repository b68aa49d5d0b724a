"""usage records and rating: CDRs, overage, data-threshold events, service bars

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "data",
                "voice",
                "sms",
                name="usage_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "rated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_usage_records_quantity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
    )
    op.create_index(
        "uq_usage_records_source_record_id", "usage_records", ["source", "record_id"], unique=True
    )
    op.create_table(
        "usage_overages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("usage_record_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "data",
                "voice",
                "sms",
                name="usage_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_usage_overages_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_usage_overages_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["usage_record_id"],
            ["usage_records.id"],
            name=op.f("fk_usage_overages_usage_record_id_usage_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_overages")),
        sa.UniqueConstraint("usage_record_id", name=op.f("uq_usage_overages_usage_record_id")),
    )
    op.create_index(
        "ix_usage_overages_card_id_occurred_at",
        "usage_overages",
        ["card_id", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "usage_threshold_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("bundle_id", sa.BigInteger(), nullable=False),
        sa.Column("threshold_percent", sa.SmallInteger(), nullable=False),
        sa.Column("usage_record_id", sa.BigInteger(), nullable=False),
        sa.Column("crossed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "threshold_percent IN (75, 90, 100)",
            name=op.f("ck_usage_threshold_events_threshold_known"),
        ),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_usage_threshold_events_bundle_id_bundles")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_usage_threshold_events_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["usage_record_id"],
            ["usage_records.id"],
            name=op.f("fk_usage_threshold_events_usage_record_id_usage_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_threshold_events")),
    )
    op.create_index(
        "ix_usage_threshold_events_card_id", "usage_threshold_events", ["card_id"], unique=False
    )
    op.create_index(
        "uq_usage_threshold_events_bundle_id_threshold_percent",
        "usage_threshold_events",
        ["bundle_id", "threshold_percent"],
        unique=True,
    )
    op.create_table(
        "service_bars",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("barred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bar_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restore_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("carrier_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_service_bars_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_bars")),
    )
    op.create_index("ix_service_bars_card_id", "service_bars", ["card_id"], unique=False)
    op.create_index(
        "uq_service_bars_card_id_open",
        "service_bars",
        ["card_id"],
        unique=True,
        postgresql_where=sa.text("lifted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("service_bars")
    op.drop_table("usage_threshold_events")
    op.drop_table("usage_overages")
    op.drop_table("usage_records")

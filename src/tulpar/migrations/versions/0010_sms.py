"""sms: delivery reports on notifications, one row per SMPP part (each has its own message
id and receipt), and the STOP opt-out on cards

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "cards", sa.Column("marketing_opt_out_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "notifications", sa.Column("delivery_status", sa.String(length=32), nullable=True)
    )
    op.add_column(
        "notifications", sa.Column("delivery_error_code", sa.String(length=16), nullable=True)
    )
    op.add_column(
        "notifications",
        sa.Column("delivery_reported_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_notifications_provider_message_id",
        "notifications",
        ["provider", "provider_message_id"],
        unique=False,
    )
    op.create_table(
        "notification_parts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("part_number", sa.SmallInteger(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=65), nullable=False),
        sa.Column("delivery_status", sa.String(length=32), nullable=True),
        sa.Column("delivery_error_code", sa.String(length=16), nullable=True),
        sa.Column("delivery_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "part_number > 0", name=op.f("ck_notification_parts_part_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_notification_parts_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_parts_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_parts")),
        sa.UniqueConstraint(
            "notification_id", "part_number", name=op.f("uq_notification_parts_notification_id")
        ),
    )
    op.create_index(
        "ix_notification_parts_provider_message_id",
        "notification_parts",
        ["provider_message_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_notification_parts_provider_message_id", table_name="notification_parts")
    op.drop_table("notification_parts")
    op.drop_index("ix_notifications_provider_message_id", table_name="notifications")
    op.drop_column("notifications", "delivery_reported_at")
    op.drop_column("notifications", "delivery_error_code")
    op.drop_column("notifications", "delivery_status")
    op.drop_column("cards", "marketing_opt_out_at")

"""provisioning (attempts, carrier callbacks) and support tickets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_callbacks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_callbacks")),
        sa.UniqueConstraint("event_id", name=op.f("uq_carrier_callbacks_event_id")),
    )
    op.create_index(
        "ix_carrier_callbacks_unhandled",
        "carrier_callbacks",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("handled_at IS NULL"),
    )
    op.create_table(
        "provisionings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "in_progress",
                "completed",
                "failed",
                name="provisioning_state",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bundle_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bundle_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_job_id", sa.BigInteger(), nullable=True),
        sa.Column("carrier_status", sa.String(length=24), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("carrier_reference", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("completed_via", sa.String(length=16), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_provisionings_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_provisionings_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisionings")),
        sa.UniqueConstraint("order_id", name=op.f("uq_provisionings_order_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_provisionings_reference")),
    )
    op.create_index("ix_provisionings_card_id", "provisionings", ["card_id"], unique=False)
    op.create_index(
        "ix_provisionings_next_check_at",
        "provisionings",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("state = 'in_progress'"),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "provisioning_failed",
                "paid_not_applied",
                "refund_failed",
                "question",
                name="ticket_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "pending",
                "resolved",
                "closed",
                name="ticket_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("opened_by", sa.String(length=120), nullable=False),
        sa.Column("timeline", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_tickets_card_id_cards")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tickets_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index("ix_tickets_card_id", "tickets", ["card_id"], unique=False)
    op.create_index(
        "ix_tickets_status_created_at", "tickets", ["status", "created_at"], unique=False
    )
    op.create_index(
        "uq_tickets_order_id_kind",
        "tickets",
        ["order_id", "kind"],
        unique=True,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_table(
        "provisioning_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provisioning_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column(
            "call",
            sa.Enum(
                "apply_bundle",
                "get_status",
                name="carrier_call",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_provisioning_attempts_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["provisioning_id"],
            ["provisionings.id"],
            name=op.f("fk_provisioning_attempts_provisioning_id_provisionings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_attempts")),
        sa.UniqueConstraint(
            "provisioning_id", "number", name=op.f("uq_provisioning_attempts_provisioning_id")
        ),
    )
    op.create_index(
        op.f("ix_provisioning_attempts_order_id"),
        "provisioning_attempts",
        ["order_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provisioning_attempts_order_id"), table_name="provisioning_attempts")
    op.drop_table("provisioning_attempts")
    op.drop_index("uq_tickets_order_id_kind", table_name="tickets")
    op.drop_index("ix_tickets_status_created_at", table_name="tickets")
    op.drop_index("ix_tickets_card_id", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_provisionings_next_check_at", table_name="provisionings")
    op.drop_index("ix_provisionings_card_id", table_name="provisionings")
    op.drop_table("provisionings")
    op.drop_index("ix_carrier_callbacks_unhandled", table_name="carrier_callbacks")
    op.drop_table("carrier_callbacks")

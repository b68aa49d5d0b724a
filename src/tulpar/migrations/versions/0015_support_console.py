"""support_console: ticket assignment, notes, replies and SLA; partial refunds

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Tickets opened before this migration are due a day after they were opened.
_BACKFILL_DUE = "UPDATE tickets SET due_at = created_at + interval '24 hours'"


def upgrade() -> None:
    op.add_column("tickets", sa.Column("assignee_staff_id", sa.BigInteger(), nullable=True))
    op.add_column("tickets", sa.Column("assignee", sa.String(length=120), nullable=True))
    op.add_column("tickets", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "tickets",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.execute(_BACKFILL_DUE)
    op.create_index("ix_tickets_status_due_at", "tickets", ["status", "due_at"], unique=False)
    op.create_table(
        "ticket_entries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "note",
                "reply",
                "status",
                "assignment",
                name="ticket_entry_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("notification_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_entries_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_entries")),
    )
    op.create_index(
        "ix_ticket_entries_ticket_id", "ticket_entries", ["ticket_id", "id"], unique=False
    )
    # Refunds may be partial: a payment has refunds numbered 1, 2, … (the system's whole
    # refund is number 1, so it still happens at most once).
    op.add_column(
        "refunds",
        sa.Column("number", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
    )
    op.drop_constraint("uq_refunds_payment_id", "refunds", type_="unique")
    op.create_unique_constraint("uq_refunds_payment_id_number", "refunds", ["payment_id", "number"])


def downgrade() -> None:
    op.drop_constraint("uq_refunds_payment_id_number", "refunds", type_="unique")
    op.execute("DELETE FROM refunds WHERE number > 1")
    op.create_unique_constraint("uq_refunds_payment_id", "refunds", ["payment_id"])
    op.drop_column("refunds", "number")
    op.drop_index("ix_ticket_entries_ticket_id", table_name="ticket_entries")
    op.drop_table("ticket_entries")
    op.drop_index("ix_tickets_status_due_at", table_name="tickets")
    op.drop_column("tickets", "updated_at")
    op.drop_column("tickets", "due_at")
    op.drop_column("tickets", "assignee")
    op.drop_column("tickets", "assignee_staff_id")

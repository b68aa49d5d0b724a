"""ussd_sessions: where each USSD dialogue stands, for gateways that keep no state and for
repeated requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ussd_sessions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("screen", sa.Text(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_ussd_sessions_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ussd_sessions_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ussd_sessions")),
        sa.UniqueConstraint("gateway", "session_id", name=op.f("uq_ussd_sessions_gateway")),
    )
    op.create_index("ix_ussd_sessions_card_id", "ussd_sessions", ["card_id"], unique=False)
    op.create_index("ix_ussd_sessions_expires_at", "ussd_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ussd_sessions_expires_at", table_name="ussd_sessions")
    op.drop_index("ix_ussd_sessions_card_id", table_name="ussd_sessions")
    op.drop_table("ussd_sessions")

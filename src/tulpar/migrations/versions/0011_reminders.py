"""reminders: the scheduler's index — cards that may be reminded, by state and validity end

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Partial: cards without a number or that texted STOP are never visited by the scheduler.
    op.create_index(
        "ix_cards_reminder_due",
        "cards",
        ["state", "validity_ends_at"],
        unique=False,
        postgresql_where=sa.text("msisdn IS NOT NULL AND marketing_opt_out_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cards_reminder_due", table_name="cards")

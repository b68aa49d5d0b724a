"""refunds: when a pending refund was last checked; index on the provider's refund id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("refunds", sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
    # Refunds already pending count as checked when they were last touched: now.
    op.execute("UPDATE refunds SET checked_at = now() WHERE state = 'pending'")
    op.create_index("ix_refunds_provider_reference", "refunds", ["provider_reference"])


def downgrade() -> None:
    op.drop_index("ix_refunds_provider_reference", table_name="refunds")
    op.drop_column("refunds", "checked_at")

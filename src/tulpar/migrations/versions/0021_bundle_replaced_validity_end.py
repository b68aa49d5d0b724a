"""bundle_replaced_validity_end: each plan applied keeps the card's validity end it replaced

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The renewal-rate report counts the validity ends that fell in a period and which of them a
# renewal replaced. The card keeps only its current end, so each bundle now records the end
# it replaced (NULL: the card's first plan). Existing bundles are backfilled with the latest
# end among the card's earlier bundles: the card's validity end is only ever set from the
# bundles applied (max of the new bundle's end and the current end), so that is the end the
# card held when the bundle was applied.


def upgrade() -> None:
    op.add_column(
        "bundles", sa.Column("replaced_validity_ends_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        """
        UPDATE bundles AS b
        SET replaced_validity_ends_at = earlier.ends_at
        FROM (
            SELECT id, max(expires_at) OVER (
                PARTITION BY card_id ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS ends_at
            FROM bundles
        ) AS earlier
        WHERE earlier.id = b.id AND earlier.ends_at IS NOT NULL
        """
    )
    op.create_index(
        "ix_bundles_replaced_validity_ends_at",
        "bundles",
        ["replaced_validity_ends_at", "card_id"],
        postgresql_where=sa.text("replaced_validity_ends_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_bundles_replaced_validity_ends_at", table_name="bundles")
    op.drop_column("bundles", "replaced_validity_ends_at")

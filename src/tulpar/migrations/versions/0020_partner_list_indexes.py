"""partner_list_indexes: a partner's order pages are read from an index, not a scan

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# GET /v1/orders pages a partner's orders newest first on (created_at, id): with this index
# the first page and every later page (keyset "before") read only the rows they return.


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_orders_partner_id_created_at_id "
        "ON orders (partner_id, created_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_orders_partner_id_created_at_id")

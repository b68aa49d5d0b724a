"""catalog_admin: catalog editing: retired plans and price history

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

Plans get ``retired_at``; the database holds a retired plan's sale window closed (so no
channel sells it), keeps the window ordered and the channels known. Price history is the
audit log's (``catalog.plan_price_change`` rows with the prices before and after): no table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_CHECKS = {
    "ck_plans_window_ordered": (
        "sellable_from IS NULL OR sellable_until IS NULL OR sellable_from <= sellable_until"
    ),
    "ck_plans_retired_not_on_sale": (
        "retired_at IS NULL OR (sellable_until IS NOT NULL AND sellable_until <= retired_at)"
    ),
    "ck_plans_channels_known": (
        "channels <@ ARRAY['web', 'ussd', 'sms', 'store', 'api']::varchar(8)[]"
    ),
}


def upgrade() -> None:
    op.add_column("plans", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    for name, condition in _CHECKS.items():
        op.create_check_constraint(op.f(name), "plans", condition)


def downgrade() -> None:
    for name in reversed(_CHECKS):
        op.drop_constraint(op.f(name), "plans", type_="check")
    op.drop_column("plans", "retired_at")

"""card_partners: cards sold or assigned to a partner, and rate limits

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The one partner that holds a card (assigned at import or by command): the only partner
    # that may read or renew it. A column, not a table, so the balance read needs no join.
    op.add_column("cards", sa.Column("partner_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        "fk_cards_partner_id_partners", "cards", "partners", ["partner_id"], ["id"]
    )
    op.create_index("ix_cards_partner_id", "cards", ["partner_id"])
    # Requests per minute a partner's keys may make in total; NULL: no per-key limit.
    op.add_column("partners", sa.Column("requests_per_minute", sa.BigInteger(), nullable=True))
    op.create_check_constraint(
        "ck_partners_requests_per_minute_positive",
        "partners",
        "requests_per_minute IS NULL OR requests_per_minute > 0",
    )


def downgrade() -> None:
    op.drop_constraint("ck_partners_requests_per_minute_positive", "partners", type_="check")
    op.drop_column("partners", "requests_per_minute")
    op.drop_index("ix_cards_partner_id", table_name="cards")
    op.drop_constraint("fk_cards_partner_id_partners", "cards", type_="foreignkey")
    op.drop_column("cards", "partner_id")

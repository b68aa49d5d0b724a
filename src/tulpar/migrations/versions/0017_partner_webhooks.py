"""partner_webhooks: partner webhook endpoints, events and deliveries

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_EVENT_TYPES = (
    "order.completed",
    "order.refunded",
    "order.provisioning_failed",
    "card.data_threshold",
    "card.expiring",
)

# Times in event data: UTC, to the second, the same text whatever the session's time zone.
_TIME_FUNCTION = """
CREATE FUNCTION partner_webhook_time(moment timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$
"""

# Rating records data thresholds in set-based statements (rating/repository.py); the
# partner's event is written by the same statement, through this statement-level trigger:
# one INSERT … SELECT over the rows it added, for cards of a partner with a live endpoint
# that takes the type. Rating's code is untouched and a batch without thresholds pays only
# an empty join.
_THRESHOLD_TRIGGER_FUNCTION = """
CREATE FUNCTION partner_webhook_record_thresholds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO partner_webhook_events (partner_id, card_id, type, dedupe_key, data, occurred_at)
  SELECT c.partner_id, n.card_id, 'card.data_threshold', 'threshold:' || n.id,
         jsonb_build_object(
           'card', jsonb_build_object('iccid', c.iccid),
           'threshold_percent', n.threshold_percent,
           'bundle_id', n.bundle_id,
           'plan_code', p.code,
           'crossed_at', partner_webhook_time(n.crossed_at)),
         n.crossed_at
  FROM new_thresholds AS n
  JOIN cards AS c ON c.id = n.card_id
  JOIN bundles AS b ON b.id = n.bundle_id
  JOIN plans AS p ON p.id = b.plan_id
  WHERE c.partner_id IS NOT NULL
    AND EXISTS (
      SELECT 1 FROM partner_webhook_endpoints AS e
      WHERE e.partner_id = c.partner_id AND e.deleted_at IS NULL
        AND 'card.data_threshold' = ANY (e.event_types))
  ORDER BY n.id
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END $$
"""
_THRESHOLD_TRIGGER = """
CREATE TRIGGER usage_threshold_events_partner_webhook AFTER INSERT ON usage_threshold_events
REFERENCING NEW TABLE AS new_thresholds
FOR EACH STATEMENT EXECUTE FUNCTION partner_webhook_record_thresholds()
"""


def upgrade() -> None:
    op.create_table(
        "partner_webhook_endpoints",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_webhook_endpoints_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_endpoints")),
    )
    op.create_index(
        "ix_partner_webhook_endpoints_partner_id_live",
        "partner_webhook_endpoints",
        ["partner_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "partner_webhook_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "public_id",
            sa.String(length=40),
            server_default=sa.text("'evt_' || replace(CAST(gen_random_uuid() AS text), '-', '')"),
            nullable=False,
        ),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type IN (" + ", ".join(f"'{name}'" for name in _EVENT_TYPES) + ")",
            name=op.f("ck_partner_webhook_events_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_partner_webhook_events_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_partner_webhook_events_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_webhook_events_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_partner_webhook_events_dedupe_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_partner_webhook_events_public_id")),
    )
    op.create_index(
        "ix_partner_webhook_events_partner_id",
        "partner_webhook_events",
        ["partner_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_partner_webhook_events_undispatched",
        "partner_webhook_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_table(
        "partner_webhook_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                "cancelled",
                name="webhook_delivery_state",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replayed_by", sa.String(length=120), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["partner_webhook_endpoints.id"],
            name=op.f("fk_partner_webhook_deliveries_endpoint_id_partner_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["partner_webhook_events.id"],
            name=op.f("fk_partner_webhook_deliveries_event_id_partner_webhook_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_deliveries")),
    )
    op.create_index(
        "ix_partner_webhook_deliveries_pending",
        "partner_webhook_deliveries",
        ["endpoint_id", "card_id", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_partner_webhook_deliveries_event_id",
        "partner_webhook_deliveries",
        ["event_id"],
        unique=False,
    )
    op.create_table(
        "partner_webhook_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["partner_webhook_deliveries.id"],
            name=op.f("fk_partner_webhook_attempts_delivery_id_partner_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_attempts")),
    )
    op.create_index(
        "uq_partner_webhook_attempts_delivery_id_number",
        "partner_webhook_attempts",
        ["delivery_id", "number"],
        unique=True,
    )
    op.execute(_TIME_FUNCTION)
    op.execute(_THRESHOLD_TRIGGER_FUNCTION)
    op.execute(_THRESHOLD_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER usage_threshold_events_partner_webhook ON usage_threshold_events")
    op.execute("DROP FUNCTION partner_webhook_record_thresholds()")
    op.execute("DROP FUNCTION partner_webhook_time(timestamptz)")
    op.drop_index(
        "uq_partner_webhook_attempts_delivery_id_number", table_name="partner_webhook_attempts"
    )
    op.drop_table("partner_webhook_attempts")
    op.drop_index("ix_partner_webhook_deliveries_event_id", table_name="partner_webhook_deliveries")
    op.drop_index("ix_partner_webhook_deliveries_pending", table_name="partner_webhook_deliveries")
    op.drop_table("partner_webhook_deliveries")
    op.drop_index("ix_partner_webhook_events_undispatched", table_name="partner_webhook_events")
    op.drop_index("ix_partner_webhook_events_partner_id", table_name="partner_webhook_events")
    op.drop_table("partner_webhook_events")
    op.drop_index(
        "ix_partner_webhook_endpoints_partner_id_live", table_name="partner_webhook_endpoints"
    )
    op.drop_table("partner_webhook_endpoints")

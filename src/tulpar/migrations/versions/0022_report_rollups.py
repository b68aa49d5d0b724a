"""report_rollups: daily rollups of the five reports, their horizon, and dirty-day marks

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# A report sums the rollup rows of its settled days and reads every other day live
# (reports/statement.py). A write can land on a settled day long after it was settled — a
# refund weeks later, a delivery report, a payment after midnight for yesterday's order, a
# renewal in the grace period that turns an old validity end renewed — so these triggers
# mark the report's moment of every such row dirty (report_dirty_days), and the day is read
# live until settling recomputes it.
#
# On the hot path a trigger reads the one horizon row (a plain read: no lock) and compares:
# today's rows are after the horizon and write nothing. A mark is a plain insert with no
# unique key, so it never waits for another transaction. Settling moves the horizon first
# and only settles the new days once every transaction that may have read the old horizon
# has ended (reports/settlement.py).
#
# The live days are read through new indexes on the moments of the orders, the messages and
# the redemptions.

_COUNTS = {
    "report_revenue_days": ("orders", "gross_minor", "refunded_minor"),
    "report_failure_days": ("orders", "amount_minor", "refunded_minor"),
    "report_promotion_days": ("redemptions", "discount_minor", "bonus_data_bytes", "bonus_days"),
    "report_sms_days": ("messages", "segments", "sent", "delivered", "failed", "queued"),
}

_FUNCTIONS = """
CREATE FUNCTION report_marks_before() RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT marks_before FROM report_horizon
$$;

-- Orders: revenue and failures by the order's placing; promotions (by the redemption's
-- moment) only when what a promotion costs changes on the order.
CREATE FUNCTION report_mark_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon timestamptz := report_marks_before();
BEGIN
    IF horizon IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.created_at < horizon THEN
        INSERT INTO report_dirty_days (report, moment)
        VALUES ('revenue', OLD.created_at), ('failures', OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.created_at < horizon
       AND (TG_OP = 'INSERT' OR NEW.created_at IS DISTINCT FROM OLD.created_at) THEN
        INSERT INTO report_dirty_days (report, moment)
        VALUES ('revenue', NEW.created_at), ('failures', NEW.created_at);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.promotion_id IS NOT NULL
       AND (NEW.currency, NEW.discount_minor, NEW.bonus_data_bytes, NEW.bonus_days)
           IS DISTINCT FROM (OLD.currency, OLD.discount_minor, OLD.bonus_data_bytes, OLD.bonus_days)
    THEN
        INSERT INTO report_dirty_days (report, moment)
        SELECT 'promotions', pr.created_at FROM promotion_redemptions AS pr
        WHERE pr.order_id = NEW.id AND pr.created_at < horizon;
    END IF;
    RETURN NULL;
END $$;

-- Rows that belong to an order (refunds, counter sales, order events): its placing.
CREATE FUNCTION report_mark_order_part() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon timestamptz := report_marks_before();
    reports text[] := TG_ARGV;
BEGIN
    IF horizon IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO report_dirty_days (report, moment)
    SELECT report.name, o.created_at
    FROM orders AS o, unnest(reports) AS report(name)
    WHERE o.created_at < horizon
      AND o.id IN (
          SELECT CASE WHEN TG_OP <> 'INSERT' THEN OLD.order_id END
          UNION SELECT CASE WHEN TG_OP <> 'DELETE' THEN NEW.order_id END
      );
    RETURN NULL;
END $$;

CREATE FUNCTION report_mark_redemption() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon timestamptz := report_marks_before();
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.created_at < horizon THEN
        INSERT INTO report_dirty_days (report, moment) VALUES ('promotions', OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.created_at < horizon
       AND (TG_OP = 'INSERT' OR NEW.created_at IS DISTINCT FROM OLD.created_at) THEN
        INSERT INTO report_dirty_days (report, moment) VALUES ('promotions', NEW.created_at);
    END IF;
    RETURN NULL;
END $$;

-- Notifications: the SMS report by the moment the message was queued; a reminder handed to
-- a provider may count for the renewals placed up to 96 hours after it was queued
-- (renewals.py: REMINDER_WINDOW + QUEUE_ALLOWANCE), so the validity ends those renewals
-- replaced are marked too.
CREATE FUNCTION report_mark_notification() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon timestamptz := report_marks_before();
    row_of notifications;
BEGIN
    IF horizon IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.channel = 'sms' AND OLD.created_at < horizon THEN
        INSERT INTO report_dirty_days (report, moment) VALUES ('sms', OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.channel = 'sms' AND NEW.created_at < horizon
       AND (TG_OP = 'INSERT'
            OR (OLD.channel, OLD.created_at) IS DISTINCT FROM (NEW.channel, NEW.created_at))
    THEN
        INSERT INTO report_dirty_days (report, moment) VALUES ('sms', NEW.created_at);
    END IF;
    IF TG_OP = 'UPDATE'
       AND (OLD.sent_at, OLD.template, OLD.card_id, OLD.created_at)
           IS NOT DISTINCT FROM (NEW.sent_at, NEW.template, NEW.card_id, NEW.created_at)
    THEN
        RETURN NULL;
    END IF;
    FOREACH row_of IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW]
                                       WHEN 'DELETE' THEN ARRAY[OLD]
                                       ELSE ARRAY[OLD, NEW] END
    LOOP
        IF starts_with(row_of.template, 'reminder_') AND row_of.sent_at IS NOT NULL THEN
            INSERT INTO report_dirty_days (report, moment)
            SELECT 'renewals', b.replaced_validity_ends_at
            FROM bundles AS b
            LEFT JOIN orders AS o ON o.id = b.order_id
            WHERE b.card_id = row_of.card_id
              AND b.replaced_validity_ends_at < horizon
              AND coalesce(o.created_at, b.created_at) >= row_of.created_at
              AND coalesce(o.created_at, b.created_at)
                  < row_of.created_at + interval '96 hours';
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

-- Validity ends: a bundle's replaced end, and a card's current one.
CREATE FUNCTION report_mark_validity_end() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    horizon timestamptz := report_marks_before();
    old_end timestamptz;
    new_end timestamptz;
BEGIN
    IF TG_TABLE_NAME = 'bundles' THEN
        IF TG_OP <> 'INSERT' THEN old_end := OLD.replaced_validity_ends_at; END IF;
        IF TG_OP <> 'DELETE' THEN new_end := NEW.replaced_validity_ends_at; END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN old_end := OLD.validity_ends_at; END IF;
        IF TG_OP <> 'DELETE' THEN new_end := NEW.validity_ends_at; END IF;
    END IF;
    IF old_end < horizon THEN
        INSERT INTO report_dirty_days (report, moment) VALUES ('renewals', old_end);
    END IF;
    IF new_end < horizon AND new_end IS DISTINCT FROM old_end THEN
        INSERT INTO report_dirty_days (report, moment) VALUES ('renewals', new_end);
    END IF;
    RETURN NULL;
END $$;
"""

_FAILED = "('payment_failed', 'expired', 'provisioning_failed', 'refunded')"

_TRIGGERS = f"""
CREATE TRIGGER report_mark AFTER INSERT OR DELETE
    OR UPDATE OF state, paid_payment_id, amount_minor, currency, channel, plan_id, created_at,
                 promotion_id, discount_minor, bonus_data_bytes, bonus_days
    ON orders FOR EACH ROW EXECUTE FUNCTION report_mark_order();
CREATE TRIGGER report_mark AFTER INSERT OR DELETE OR UPDATE OF state, amount_minor, order_id
    ON refunds FOR EACH ROW EXECUTE FUNCTION report_mark_order_part('revenue', 'failures');
CREATE TRIGGER report_mark AFTER INSERT OR DELETE OR UPDATE OF store_id, order_id
    ON counter_sales FOR EACH ROW EXECUTE FUNCTION report_mark_order_part('revenue');
CREATE TRIGGER report_mark AFTER INSERT ON order_events
    FOR EACH ROW WHEN (NEW.to_state IN {_FAILED})
    EXECUTE FUNCTION report_mark_order_part('failures');
CREATE TRIGGER report_mark_change AFTER DELETE OR UPDATE OF to_state, reason, order_id
    ON order_events FOR EACH ROW EXECUTE FUNCTION report_mark_order_part('failures');
CREATE TRIGGER report_mark AFTER INSERT OR DELETE
    OR UPDATE OF state, created_at, promotion_id, order_id
    ON promotion_redemptions FOR EACH ROW EXECUTE FUNCTION report_mark_redemption();
CREATE TRIGGER report_mark AFTER INSERT OR DELETE
    OR UPDATE OF channel, state, provider, sent_at, segment_count, created_at, template, card_id
    ON notifications FOR EACH ROW EXECUTE FUNCTION report_mark_notification();
CREATE TRIGGER report_mark AFTER INSERT OR DELETE
    OR UPDATE OF replaced_validity_ends_at, order_id, created_at, card_id
    ON bundles FOR EACH ROW EXECUTE FUNCTION report_mark_validity_end();
CREATE TRIGGER report_mark AFTER INSERT OR DELETE ON cards
    FOR EACH ROW EXECUTE FUNCTION report_mark_validity_end();
CREATE TRIGGER report_mark_change AFTER UPDATE OF validity_ends_at ON cards
    FOR EACH ROW WHEN (OLD.validity_ends_at IS DISTINCT FROM NEW.validity_ends_at)
    EXECUTE FUNCTION report_mark_validity_end();
"""

_DROP_TRIGGERS = (
    ("report_mark", "orders"),
    ("report_mark", "refunds"),
    ("report_mark", "counter_sales"),
    ("report_mark", "order_events"),
    ("report_mark_change", "order_events"),
    ("report_mark", "promotion_redemptions"),
    ("report_mark", "notifications"),
    ("report_mark", "bundles"),
    ("report_mark", "cards"),
    ("report_mark_change", "cards"),
)
_DROP_FUNCTIONS = (
    "report_mark_order()",
    "report_mark_order_part()",
    "report_mark_redemption()",
    "report_mark_notification()",
    "report_mark_validity_end()",
    "report_marks_before()",
)


def _counts(table: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTS[table]]


def upgrade() -> None:
    op.create_table(
        "report_horizon",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("settled_through", sa.Date(), nullable=True),
        sa.Column("settled_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("marks_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("marks_moved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name="ck_report_horizon_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_report_horizon"),
    )
    op.execute("INSERT INTO report_horizon (id) VALUES (1)")
    op.create_table(
        "report_dirty_days",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("report", sa.String(16), nullable=False),
        sa.Column("moment", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "marked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "report IN ('revenue', 'renewals', 'failures', 'promotions', 'sms')",
            name="ck_report_dirty_days_report_known",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_dirty_days"),
    )
    op.create_index("ix_report_dirty_days_report_moment", "report_dirty_days", ["report", "moment"])
    op.create_table(
        "report_revenue_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("store_id", sa.BigInteger(), nullable=True),
        *_counts("report_revenue_days"),
    )
    op.create_table(
        "report_failure_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *_counts("report_failure_days"),
    )
    op.create_table(
        "report_promotion_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("promotion_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *_counts("report_promotion_days"),
    )
    op.create_table(
        "report_sms_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=True),
        *_counts("report_sms_days"),
    )
    for table in _COUNTS:
        op.create_index(f"ix_{table}_day", table, ["day"])
    op.create_table(
        "report_renewal_days",
        sa.Column("day", sa.Date(), nullable=False),
        *[
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in (
                "validity_ends",
                "renewed",
                "renewed_before_end",
                "renewed_after_end",
                "renewed_after_reminder",
            )
        ],
        sa.PrimaryKeyConstraint("day", name="pk_report_renewal_days"),
    )
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    op.create_index("ix_promotion_redemptions_created_at", "promotion_redemptions", ["created_at"])
    op.execute(_FUNCTIONS)
    op.execute(_TRIGGERS)


def downgrade() -> None:
    for trigger, table in _DROP_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in _DROP_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_promotion_redemptions_created_at", table_name="promotion_redemptions")
    op.drop_index("ix_notifications_created_at", table_name="notifications")
    op.drop_index("ix_orders_created_at", table_name="orders")
    for table in (
        "report_renewal_days",
        "report_sms_days",
        "report_promotion_days",
        "report_failure_days",
        "report_revenue_days",
        "report_dirty_days",
        "report_horizon",
    ):
        op.drop_table(table)

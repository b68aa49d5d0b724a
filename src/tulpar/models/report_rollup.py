"""The reports' daily rollups: per settled local day, the fine groups each report sums up;
the horizon of the days settled; and the marks of late writes on settled days (migration
0022 writes them from triggers). Plain tables without a key of their own: settling deletes
and rewrites a day's rows, and a report only sums them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)

from tulpar.models.base import Base

REPORTS = ("revenue", "renewals", "failures", "promotions", "sms")


def _counts(*names: str) -> list[Column[int]]:
    return [Column(name, BigInteger, nullable=False) for name in names]


report_horizon = Table(
    "report_horizon",
    Base.metadata,
    # One row. ``settled_through``: the last local day with rollup rows (settled_before its
    # closing midnight). Late writes on a day before ``marks_before`` are marked dirty;
    # ``marks_moved_at``: when that moved (settling waits for older transactions to end).
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("settled_through", Date),
    Column("settled_before", DateTime(timezone=True)),
    Column("marks_before", DateTime(timezone=True)),
    Column("marks_moved_at", DateTime(timezone=True)),
    CheckConstraint("id = 1", name="single_row"),
)

report_dirty_days = Table(
    "report_dirty_days",
    Base.metadata,
    # A moment of a report (its local day is the dirty one): the order placed, the SMS
    # queued, the validity end, the redemption. Duplicates are expected; no unique key, so
    # marking never waits for another transaction.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("report", String(16), nullable=False),
    Column("moment", DateTime(timezone=True), nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "report IN ('revenue', 'renewals', 'failures', 'promotions', 'sms')", name="report_known"
    ),
    Index("ix_report_dirty_days_report_moment", "report", "moment"),
)

report_revenue_days = Table(
    "report_revenue_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(24), nullable=False),
    Column("plan_id", BigInteger),  # NULL: wallet top-ups
    Column("store_id", BigInteger),  # NULL: away from the counter
    *_counts("orders", "gross_minor", "refunded_minor"),
    Index("ix_report_revenue_days_day", "day"),
)

report_failure_days = Table(
    "report_failure_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("state", String(24), nullable=False),
    Column("reason", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    *_counts("orders", "amount_minor", "refunded_minor"),
    Index("ix_report_failure_days_day", "day"),
)

report_promotion_days = Table(
    "report_promotion_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("promotion_id", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    *_counts("redemptions", "discount_minor", "bonus_data_bytes", "bonus_days"),
    Index("ix_report_promotion_days_day", "day"),
)

report_sms_days = Table(
    "report_sms_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("provider", String(32)),  # NULL: still queued
    *_counts("messages", "segments", "sent", "delivered", "failed", "queued"),
    Index("ix_report_sms_days_day", "day"),
)

report_renewal_days = Table(
    "report_renewal_days",
    Base.metadata,
    Column("day", Date, primary_key=True),
    *_counts(
        "validity_ends",
        "renewed",
        "renewed_before_end",
        "renewed_after_end",
        "renewed_after_reminder",
    ),
)

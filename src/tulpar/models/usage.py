from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class UsageKind(enum.StrEnum):
    data = "data"  # quantity in bytes
    voice = "voice"  # seconds
    sms = "sms"  # messages


class UsageRecord(Base):
    """One CDR from the carrier, stored once per (source, record id) and rated in the same
    transaction that stores it: its deductions are the ledger entries that point at it, and
    what no bundle covered is its :class:`UsageOverage`.

    Only the unique key is indexed: each index is paid on every row of the busiest insert.
    "Usage as of" is read from ``bundles.last_usage_at`` and the overages instead."""

    __tablename__ = "usage_records"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # The one guard against rating a record twice, whoever sends it and however often.
        Index("uq_usage_records_source_record_id", "source", "record_id", unique=True),
    )

    id: Mapped[int] = identity_pk()
    source: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(128))
    # No foreign key on purpose: this is the highest-volume table, the id comes from a card
    # lookup in the same transaction, cards are never deleted, and a row-by-row key check
    # costs ~15 % of ingestion. (It also keeps the table free to be distributed by card_id.)
    card_id: Mapped[int]
    kind: Mapped[UsageKind] = mapped_column(str_enum(UsageKind, "usage_kind"))
    quantity: Mapped[int]
    occurred_at: Mapped[datetime]
    rated_at: Mapped[datetime] = created_at_column()


class UsageOverage(Base):
    """The part of a usage record that no bundle valid at its time covered."""

    __tablename__ = "usage_overages"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_usage_overages_card_id_occurred_at", "card_id", "occurred_at"),
    )

    id: Mapped[int] = identity_pk()
    usage_record_id: Mapped[int] = mapped_column(ForeignKey("usage_records.id"), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    kind: Mapped[UsageKind] = mapped_column(str_enum(UsageKind, "usage_kind"))
    quantity: Mapped[int]
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class UsageThresholdEvent(Base):
    """A bundle's data use reached ``threshold_percent`` of its granted data; once per bundle
    and threshold, whatever happens to the bundle afterwards."""

    __tablename__ = "usage_threshold_events"
    __table_args__ = (
        CheckConstraint("threshold_percent IN (75, 90, 100)", name="threshold_known"),
        Index(
            "uq_usage_threshold_events_bundle_id_threshold_percent",
            "bundle_id",
            "threshold_percent",
            unique=True,
        ),
        Index("ix_usage_threshold_events_card_id", "card_id"),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundles.id"))
    threshold_percent: Mapped[int] = mapped_column(SmallInteger)
    usage_record_id: Mapped[int] = mapped_column(ForeignKey("usage_records.id"))
    crossed_at: Mapped[datetime]  # occurred_at of the record that crossed it
    created_at: Mapped[datetime] = created_at_column()


class ServiceBar(Base):
    """The carrier was (or is being) told to bar a card's service because it ran out.

    At most one open bar per card (``lifted_at IS NULL``); a renewal lifts it and the carrier
    is told to restore the service. ``*_confirmed_at`` record the carrier's answers."""

    __tablename__ = "service_bars"
    __table_args__ = (
        Index(
            "uq_service_bars_card_id_open",
            "card_id",
            unique=True,
            postgresql_where=text("lifted_at IS NULL"),
        ),
        Index("ix_service_bars_card_id", "card_id"),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    reason: Mapped[str] = mapped_column(Text)
    barred_at: Mapped[datetime]
    bar_confirmed_at: Mapped[datetime | None]
    lifted_at: Mapped[datetime | None]
    restore_confirmed_at: Mapped[datetime | None]
    carrier_error: Mapped[str | None] = mapped_column(Text)

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class NotificationState(enum.StrEnum):
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"


class Notification(Base):
    """One outgoing message. With the ``outbox`` SMS provider this table is the outbox."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("segment_count > 0", name="segments_positive"),
        CheckConstraint("encoding IN ('gsm7', 'ucs2')", name="encoding_known"),
        Index("ix_notifications_card_id_created_at", "card_id", "created_at"),
        # The SMS report reads its live days by moment.
        Index("ix_notifications_created_at", "created_at"),
        # Delivery reports name the message by the provider's id.
        Index("ix_notifications_provider_message_id", "provider", "provider_message_id"),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    template: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segment_count: Mapped[int]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[NotificationState] = mapped_column(
        str_enum(NotificationState, "notification_state"), default=NotificationState.queued
    )
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None]
    # The provider's latest word on delivery, as it spells it (SMPP ``DELIVRD``/``UNDELIV``…,
    # Twilio ``delivered``/``undelivered``…), its error code, and when it came.
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    delivery_error_code: Mapped[str | None] = mapped_column(String(16))
    delivery_reported_at: Mapped[datetime | None]


class NotificationPart(Base):
    """One concatenated part of an SMS as an SMPP centre took it: its own message id and its
    own delivery receipt. The message is delivered when every part is."""

    __tablename__ = "notification_parts"
    __table_args__ = (
        UniqueConstraint("notification_id", "part_number"),
        CheckConstraint("part_number > 0", name="part_number_positive"),
        Index("ix_notification_parts_provider_message_id", "provider_message_id"),
    )

    id: Mapped[int] = identity_pk()
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    part_number: Mapped[int] = mapped_column(SmallInteger)
    provider_message_id: Mapped[str] = mapped_column(String(65))  # SMPP: up to 65 octets
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    delivery_error_code: Mapped[str | None] = mapped_column(String(16))
    delivery_reported_at: Mapped[datetime | None]

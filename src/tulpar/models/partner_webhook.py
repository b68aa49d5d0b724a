"""Outgoing partner webhooks: the endpoints a partner registered, the events that happened to
its orders and cards (the outbox, written in the transaction of the change), one delivery of
an event to one endpoint (a replay is a new delivery of the same event) and each attempt's
answer."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum

# Every event type a partner can subscribe to (the CHECK below and the API's enum).
WEBHOOK_EVENT_TYPES = (
    "order.completed",
    "order.refunded",
    "order.provisioning_failed",
    "card.data_threshold",
    "card.expiring",
)


class WebhookDeliveryState(enum.StrEnum):
    pending = "pending"  # not answered 2xx yet, retried until its window ends
    delivered = "delivered"
    failed = "failed"  # gave up: no 2xx within the retry window
    cancelled = "cancelled"  # its endpoint was deleted before it got through


class PartnerWebhookEndpoint(Base):
    """A URL of a partner that receives its events, signed with ``secret``; during a rotation
    ``previous_secret`` signs too until ``previous_secret_expires_at``. Deleted endpoints keep
    their row (``deleted_at``) so the delivery log still names them."""

    __tablename__ = "partner_webhook_endpoints"
    __table_args__ = (
        Index(
            "ix_partner_webhook_endpoints_partner_id_live",
            "partner_id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = identity_pk()
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    secret_rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None]


class PartnerWebhookEvent(Base):
    """Something that happened to a partner's order or card, once (``dedupe_key``), with the
    ``data`` frozen as it was; ``public_id`` (``evt_…``) is what partners see and dedupe on.
    ``dispatched_at``: when its deliveries to the partner's endpoints were created."""

    __tablename__ = "partner_webhook_events"
    __table_args__ = (
        CheckConstraint(
            "type IN (" + ", ".join(f"'{name}'" for name in WEBHOOK_EVENT_TYPES) + ")",
            name="type_known",
        ),
        Index("ix_partner_webhook_events_partner_id", "partner_id", "id"),
        Index(
            "ix_partner_webhook_events_undispatched",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[int] = identity_pk()
    public_id: Mapped[str] = mapped_column(
        String(40),
        unique=True,
        server_default=text("'evt_' || replace(CAST(gen_random_uuid() AS text), '-', '')"),
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    type: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
    dispatched_at: Mapped[datetime | None]


class PartnerWebhookDelivery(Base):
    """One event on its way to one endpoint. Deliveries of one (endpoint, card) go strictly
    in ``id`` order: the oldest pending one blocks the later ones."""

    __tablename__ = "partner_webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_partner_webhook_deliveries_pending",
            "endpoint_id",
            "card_id",
            "id",
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_partner_webhook_deliveries_event_id", "event_id"),
    )

    id: Mapped[int] = identity_pk()
    event_id: Mapped[int] = mapped_column(ForeignKey("partner_webhook_events.id"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("partner_webhook_endpoints.id"))
    card_id: Mapped[int]  # the event's, the key deliveries are ordered by
    state: Mapped[WebhookDeliveryState] = mapped_column(
        str_enum(WebhookDeliveryState, "webhook_delivery_state")
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # Who asked for it again (a replay from the back office); None for the first delivery.
    replayed_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = created_at_column()


class PartnerWebhookAttempt(Base):
    """One POST of a delivery and what came back (or why nothing did)."""

    __tablename__ = "partner_webhook_attempts"
    __table_args__ = (
        Index(
            "uq_partner_webhook_attempts_delivery_id_number", "delivery_id", "number", unique=True
        ),
    )

    id: Mapped[int] = identity_pk()
    delivery_id: Mapped[int] = mapped_column(ForeignKey("partner_webhook_deliveries.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime | None]  # when the next one was due after this one

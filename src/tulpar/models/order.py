from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum
from tulpar.models.plan import Channel


class OrderKind(enum.StrEnum):
    plan_renewal = "plan_renewal"
    wallet_topup = "wallet_topup"


class OrderState(enum.StrEnum):
    awaiting_payment = "awaiting_payment"
    paid = "paid"
    provisioning = "provisioning"
    completed = "completed"
    payment_failed = "payment_failed"
    expired = "expired"
    provisioning_failed = "provisioning_failed"
    refunded = "refunded"


class Order(Base):
    """What was bought: a plan renewal or a wallet top-up for one card. The price is frozen
    when the order is placed. The state moves only through ``order.service.transition``."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("(kind = 'plan_renewal') = (plan_id IS NOT NULL)", name="plan_iff_renewal"),
        CheckConstraint("discount_minor >= 0", name="discount_non_negative"),
        Index("ix_orders_card_id_created_at", "card_id", "created_at"),
        Index("ix_orders_state_payable_until", "state", "payable_until"),
        # The reports read their live days (not settled yet, or marked dirty) by moment.
        Index("ix_orders_created_at", "created_at"),
        Index(
            "ix_orders_partner_id_created_at_id",
            "partner_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    kind: Mapped[OrderKind] = mapped_column(str_enum(OrderKind, "order_kind"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "order_channel"))
    state: Mapped[OrderState] = mapped_column(str_enum(OrderState, "order_state"))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    payment_provider: Mapped[str] = mapped_column(String(16))
    # The code as the payer typed it; the promotion applied (by code or automatic) and its
    # effect are frozen below when the order is placed.
    promo_code: Mapped[str | None] = mapped_column(String(64))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id"))
    # The price before the discount (NULL on orders placed before promotions existed);
    # amount_minor is what is paid.
    list_amount_minor: Mapped[int | None]
    discount_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    bonus_data_bytes: Mapped[int] = mapped_column(default=0, server_default="0")
    bonus_days: Mapped[int] = mapped_column(default=0, server_default="0")
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    placed_by: Mapped[str] = mapped_column(String(120))
    # The attempt whose money paid the order (set with the move to `paid`); no FK because
    # payments reference orders.
    paid_payment_id: Mapped[int | None]
    payable_until: Mapped[datetime]
    state_changed_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class OrderEvent(Base):
    """One transition of one order: the timeline support reads. Append-only."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_id_id", "order_id", "id"),)

    id: Mapped[int] = identity_pk()
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    from_state: Mapped[OrderState | None] = mapped_column(
        str_enum(OrderState, "order_event_from_state")
    )
    to_state: Mapped[OrderState] = mapped_column(str_enum(OrderState, "order_event_to_state"))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    occurred_at: Mapped[datetime]

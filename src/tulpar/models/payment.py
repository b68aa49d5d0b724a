from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class PaymentProviderName(enum.StrEnum):
    sandbox = "sandbox"
    stripe = "stripe"
    wallet = "wallet"
    # Taken at a store's counter (tulpar.integrations.payments.counter; migration 0014).
    cash = "cash"
    card_terminal = "card_terminal"


class PaymentState(enum.StrEnum):
    pending = "pending"  # waiting for the payer or the provider
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"  # replaced by a newer attempt before it finished


class Payment(Base):
    """One attempt to collect an order's amount through a provider. ``idempotency_key`` is
    ours and goes with every call to the provider about this attempt."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        UniqueConstraint("idempotency_key"),
        UniqueConstraint("order_id", "attempt"),
        Index(
            "uq_payments_provider_reference",
            "provider",
            "provider_reference",
            unique=True,
            postgresql_where=text("provider_reference IS NOT NULL"),
        ),
        Index("ix_payments_state_checked_at", "state", "checked_at"),
    )

    id: Mapped[int] = identity_pk()
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    attempt: Mapped[int]
    provider: Mapped[PaymentProviderName] = mapped_column(
        str_enum(PaymentProviderName, "payment_provider")
    )
    state: Mapped[PaymentState] = mapped_column(str_enum(PaymentState, "payment_state"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # What the payer does next: {"type": "redirect_to_url", "url": ...} or a client secret.
    next_action: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    # Last time we asked the provider (or heard from it); the re-query job uses it.
    checked_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class RefundState(enum.StrEnum):
    requested = "requested"
    # Accepted by the provider but not settled (Stripe `pending` / `requires_action`); its
    # webhook decides between succeeded and failed.
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class Refund(Base):
    """Giving a payment's money back, whole or in parts (numbered per payment); the provider call
    happens in the ``payment.refund`` job, after the intent is committed."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # Numbered per payment (partial refunds, migration 0015); the whole refund the system
        # asks for is number 1, so it happens at most once.
        UniqueConstraint("payment_id", "number", name="uq_refunds_payment_id_number"),
        UniqueConstraint("idempotency_key"),
        # Refund webhooks name the provider's refund id.
        Index("ix_refunds_provider_reference", "provider_reference"),
    )

    id: Mapped[int] = identity_pk()
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    number: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    state: Mapped[RefundState] = mapped_column(str_enum(RefundState, "refund_state"))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    failure_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # When the provider last told us (or was asked) where a `pending` refund stands.
    checked_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class SandboxDecision(enum.StrEnum):
    paid = "paid"
    declined = "declined"


class SandboxCharge(Base):
    """The built-in sandbox provider's own record of what the payer decided on its hosted
    page (the provider side; Tulpar's side is ``payments``)."""

    __tablename__ = "sandbox_charges"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision: Mapped[SandboxDecision] = mapped_column(str_enum(SandboxDecision, "sandbox_decision"))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    refunded_at: Mapped[datetime | None]
    decided_at: Mapped[datetime]

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tulpar.api.schemas.balance import MoneyAmount
from tulpar.api.schemas.promotion import PromotionOut
from tulpar.models import OrderKind, PaymentProviderName


class OnlineProvider(enum.StrEnum):
    """The payment providers an API order may name (counter money is taken only at a store:
    ``cash`` and ``card_terminal`` are no choice here)."""

    wallet = PaymentProviderName.wallet.value
    sandbox = PaymentProviderName.sandbox.value
    stripe = PaymentProviderName.stripe.value


_PROVIDER_DOC = (
    "Default: the sandbox outside production, Stripe in production once it is configured."
    " A provider that cannot take payment here (the sandbox in production, Stripe without"
    " its keys) is refused with 422 `payment_provider_unavailable` before anything is"
    " written; its `available` lists the ones that can."
)


class OrderCreate(BaseModel):
    """A renewal (``plan``) or a wallet top-up (``amount_minor``, KZT) for one card."""

    model_config = ConfigDict(extra="forbid")

    card: str = Field(min_length=1, max_length=40, description="ICCID or phone number")
    kind: OrderKind = OrderKind.plan_renewal
    plan: str | None = Field(default=None, min_length=1, max_length=32, description="Plan code")
    amount_minor: int | None = Field(default=None, gt=0, description="Top-ups only")
    currency: str = Field(default="KZT", pattern="^[A-Za-z]{3}$")
    payment_provider: OnlineProvider | None = Field(default=None, description=_PROVIDER_DOC)
    promo_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A promotion code (any case). The order gets the best promotion for the"
        " traveller among this code's and the automatic ones. A code that cannot be used is"
        " refused with 422 and says why: `promo_code_unknown`, `promo_code_expired`,"
        " `promo_code_used_up` or `promo_code_not_applicable` (with its `reason`).",
    )


class PaymentAttemptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_provider: OnlineProvider | None = Field(default=None, description=_PROVIDER_DOC)


class PaymentOut(BaseModel):
    id: int
    attempt: int
    provider: str
    state: str
    amount: MoneyAmount
    next_action: dict[str, Any] | None = Field(
        description="What the payer does next: open `url`, or confirm with Stripe's client secret"
    )
    failure_code: str | None
    failure_message: str | None
    created_at: datetime


class OrderEventOut(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    reason: str
    details: dict[str, Any]
    occurred_at: datetime


class ReceiptLinks(BaseModel):
    """Where the traveller keeps and checks the receipt of a completed order."""

    number: str
    html_url: str
    pdf_url: str
    verify_url: str


class OrderOut(BaseModel):
    id: int
    kind: str
    state: str
    iccid: str
    plan: str | None
    channel: str
    amount: MoneyAmount = Field(description="What is paid, after any promotion")
    promo_code: str | None
    promotion: PromotionOut | None = Field(
        default=None, description="The promotion frozen on the order when it was placed"
    )
    payable_until: datetime
    created_at: datetime
    payment: PaymentOut | None = Field(description="The latest payment attempt")
    payments: list[PaymentOut]
    timeline: list[OrderEventOut]
    receipt: ReceiptLinks | None = Field(default=None, description="Once the order is completed")

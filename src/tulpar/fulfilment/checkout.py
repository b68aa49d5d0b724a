"""Checkout for every channel: place the order (or reopen it), start its payment attempt, and
act at once when the attempt settles in the same transaction (the wallet pays on the spot).
A provider that needs the network is called by :func:`start_with_provider` after commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.auth.identity import Caller
from tulpar.fulfilment import pricing
from tulpar.fulfilment.payments import on_payment
from tulpar.fulfilment.requery import start_with_provider
from tulpar.integrations.payments import registry
from tulpar.models import Order, Payment, PaymentProviderName
from tulpar.order import checkout as order_checkout
from tulpar.order import service as order_service
from tulpar.order.checkout import OrderRequest
from tulpar.payment import service as payment_service

__all__ = [
    "CheckoutResult",
    "OrderRequest",
    "default_provider",
    "pay_again",
    "place",
    "start_with_provider",
]


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    order: Order
    payment: Payment
    # The provider must still be called, after this transaction commits (Stripe).
    provider_call_pending: bool
    # The order was placed in this transaction: ``payment`` is its one attempt.
    placed_now: bool = False


def place(session: Session, caller: Caller, request: OrderRequest) -> CheckoutResult:
    """Place an order (with the best promotion for it) and start paying it. Refusals
    (including a bad promotion code, a wallet that cannot pay, and a provider that cannot
    take payment here) raise before anything is written."""
    registry.require_available(request.payment_provider.value)
    order = pricing.place(session, caller, request)
    return _start_payment(session, order, provider=request.payment_provider, placed_now=True)


def pay_again(
    session: Session, caller: Caller, order_id: int, *, provider: PaymentProviderName
) -> CheckoutResult:
    """A new payment attempt for an order that is still open (e.g. after a decline)."""
    registry.require_available(provider.value)
    order = order_checkout.reopen_for_payment(session, caller, order_id, provider=provider)
    return _start_payment(session, order, provider=provider)


def default_provider() -> PaymentProviderName:
    """The provider of an order that names none: the sandbox where it is on, else Stripe
    once configured (raises ``ProviderNotOfferedError`` when neither can take payment)."""
    return PaymentProviderName(registry.default_provider())


def _start_payment(
    session: Session, order: Order, *, provider: PaymentProviderName, placed_now: bool = False
) -> CheckoutResult:
    started = payment_service.start_attempt(
        session, order, provider=provider, placed_now=placed_now
    )
    if started.report is not None:
        on_payment(session, started.report)
    return CheckoutResult(
        # Only an attempt that settled at once (the wallet) has moved the order since.
        order=order if started.report is None else order_service.get(session, order.id),
        payment=started.payment,
        provider_call_pending=payment_service.awaits_provider(started.payment),
        placed_now=placed_now,
    )

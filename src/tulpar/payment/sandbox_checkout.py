"""The sandbox provider's hosted pay page, as a use case: what the payer sees and what their
click does (records the decision and schedules the signed webhooks back to Tulpar)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.catalog import service as catalog_service
from tulpar.config import get_settings
from tulpar.errors import TulparError
from tulpar.integrations.payments import sandbox
from tulpar.integrations.payments.registry import sandbox_webhook_url
from tulpar.jobs import defer_in_transaction
from tulpar.models import (
    Channel,
    OrderKind,
    Payment,
    PaymentProviderName,
    PaymentState,
    SandboxDecision,
)
from tulpar.money import Money
from tulpar.order import service as order_service
from tulpar.payment import repository

DELIVER_TASK = "payment.deliver_sandbox_webhooks"
# Indicative only (the payer is charged the order's amount); used when no plan price exists.
# Minor units of each currency per 10 000 minor units of KZT (both have two decimals).
INDICATIVE_PER_10K_KZT = {"CNY": 145, "USD": 20}


class SandboxPaymentNotFoundError(TulparError):
    status = 404
    code = "sandbox_payment_not_found"
    title = "This payment page does not exist"


@dataclass(frozen=True, slots=True)
class CheckoutPage:
    reference: str
    order_id: int
    amount: Money
    equivalents: list[Money]
    description: str
    decision: SandboxDecision | None
    payable: bool
    # Where the payer goes back to (a provider's return and cancel URLs): the traveller's
    # order page for a web order; None for orders of other channels (a partner's app).
    return_url: str | None = None
    cancel_url: str | None = None


def page(session: Session, reference: str) -> CheckoutPage:
    payment = _sandbox_payment(session, reference)
    order = order_service.get(session, payment.order_id)
    amount = Money(payment.amount_minor, payment.currency)
    if order.kind is OrderKind.plan_renewal and order.plan_id is not None:
        plan = catalog_service.get_plan(session, order_service.plan_code_of(session, order) or "")
        description = f"{plan.names.get('zh-Hans', plan.code)} · {plan.code}"
        equivalents = [
            Money(price.amount_minor, price.currency)
            for price in plan.prices
            if price.currency != amount.currency
        ]
    else:
        description = "钱包充值 · Wallet top-up"
        equivalents = _indicative(amount)
    return CheckoutPage(
        reference=reference,
        order_id=order.id,
        amount=amount,
        equivalents=equivalents,
        description=description,
        decision=sandbox.charge_decision(session, reference),
        payable=payment.state is PaymentState.pending,
        return_url=f"/orders/{order.id}" if order.channel is Channel.web else None,
        cancel_url=f"/orders/{order.id}?cancelled=1" if order.channel is Channel.web else None,
    )


def decide(session: Session, reference: str, *, pay: bool) -> int:
    """The payer clicked Pay or Decline. The first click counts; returns how many webhook
    deliveries were scheduled (0 for a repeated click)."""
    payment = _sandbox_payment(session, reference)
    if payment.state is not PaymentState.pending:
        return 0
    settings = get_settings()
    deliveries = sandbox.record_decision(
        session,
        reference=reference,
        key=payment.idempotency_key,
        decision=SandboxDecision.paid if pay else SandboxDecision.declined,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        options=sandbox.DeliveryOptions(
            delay_seconds=settings.sandbox_webhook_delay_seconds,
            duplicates=settings.sandbox_webhook_duplicates,
            reorder=settings.sandbox_webhook_reorder,
        ),
    )
    url = sandbox_webhook_url()
    for delivery in deliveries:
        defer_in_transaction(
            session,
            DELIVER_TASK,
            schedule_in={"seconds": delivery.delay_seconds} if delivery.delay_seconds else None,
            events=delivery.events,
            url=url,
        )
    return len(deliveries)


def _sandbox_payment(session: Session, reference: str) -> Payment:
    payment = repository.by_reference(session, "sandbox", reference)
    if payment is None or payment.provider is not PaymentProviderName.sandbox:
        raise SandboxPaymentNotFoundError()
    return payment


def _indicative(amount: Money) -> list[Money]:
    if amount.currency != "KZT":
        return []
    return [
        Money((amount.amount_minor * rate + 5_000) // 10_000, currency)
        for currency, rate in INDICATIVE_PER_10K_KZT.items()
    ]

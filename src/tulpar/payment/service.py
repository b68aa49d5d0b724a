"""Payments: attempts to collect an order's amount, what the providers say about them, and
refunds. Provider calls never happen here with a write transaction open: callers commit the
intent first (see :func:`provider_request`, :func:`call_provider`, :func:`record_start`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.errors import TulparError
from tulpar.integrations.payments.protocol import (
    PaymentRequest,
    ProviderPayment,
    ProviderStatus,
)
from tulpar.integrations.payments.registry import provider_for
from tulpar.models import (
    LedgerCause,
    Order,
    OrderState,
    Payment,
    PaymentProviderName,
    PaymentState,
)
from tulpar.money import Money
from tulpar.order import service as order_service
from tulpar.payment import refunds, repository
from tulpar.wallet import service as wallet_service


class PaymentNotFoundError(TulparError):
    status = 404
    code = "payment_not_found"
    title = "Payment not found"


def _new_key() -> str:
    return "tlp_pay_" + secrets.token_hex(16)


def start_attempt(session: Session, order: Order, *, provider: PaymentProviderName) -> Payment:
    """A new payment attempt for ``order``. ``wallet`` pays at once (debit and order → paid in
    this transaction; :class:`InsufficientFundsError` leaves everything as it was); ``sandbox``
    gets its pay page at once (no network); ``stripe`` waits for :func:`call_provider` after
    the caller commits."""
    now = clock.now()
    repository.cancel_pending(session, order.id, now=now)
    payment = repository.add(
        session,
        Payment(
            order_id=order.id,
            card_id=order.card_id,
            attempt=repository.next_attempt(session, order.id),
            provider=provider,
            state=PaymentState.pending,
            idempotency_key=_new_key(),
            amount_minor=order.amount_minor,
            currency=order.currency,
            checked_at=now,
        ),
    )
    if provider is PaymentProviderName.wallet:
        _pay_from_wallet(session, order, payment)
    elif provider is PaymentProviderName.sandbox:
        # The sandbox's "create" is computed locally, so it is safe inside the transaction.
        record_start(session, payment.id, call_provider(_request(order, payment), "sandbox"))
    return repository.get(session, payment.id) or payment


def _pay_from_wallet(session: Session, order: Order, payment: Payment) -> None:
    wallet_service.move(
        session,
        card_id=order.card_id,
        amount=Money(-order.amount_minor, order.currency),
        cause=LedgerCause.order,
        order_id=order.id,
        reason=f"payment {payment.id}",
    )
    apply_status(
        session, payment.id, ProviderPayment(reference="", status=ProviderStatus.succeeded)
    )


def _request(order: Order, payment: Payment) -> PaymentRequest:
    return PaymentRequest(
        idempotency_key=payment.idempotency_key,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        description=f"Tulpar order {order.id}",
        metadata={"order_id": str(order.id), "payment_id": str(payment.id)},
    )


@dataclass(frozen=True, slots=True)
class PendingStart:
    payment_id: int
    provider: str
    request: PaymentRequest


def provider_request(session: Session, payment_id: int) -> PendingStart | None:
    """What to send the provider for an attempt that has not reached it yet (else None)."""
    payment = repository.get(session, payment_id)
    if payment is None or payment.provider_reference is not None:
        return None
    if payment.provider is PaymentProviderName.wallet or payment.state is not PaymentState.pending:
        return None
    order = order_service.get(session, payment.order_id)
    return PendingStart(payment.id, payment.provider.value, _request(order, payment))


def call_provider(request: PaymentRequest, provider: str) -> ProviderPayment:
    """The network call (no transaction may be open). Raises :class:`ProviderError`."""
    return provider_for(provider).create_payment(request)


def record_start(session: Session, payment_id: int, outcome: ProviderPayment) -> None:
    """Keep the provider's reference and the payer's next action, then apply its status."""
    repository.record_start(
        session,
        payment_id,
        reference=outcome.reference,
        next_action=outcome.next_action,
        now=clock.now(),
    )
    if outcome.status is not ProviderStatus.pending:
        apply_status(session, payment_id, outcome)


def apply_status(
    session: Session, payment_id: int, outcome: ProviderPayment, *, source: str = "provider"
) -> str:
    """Apply what the provider says about one attempt; safe to repeat and to receive out of
    order. Returns what happened, for the webhook inbox."""
    payment = repository.get(session, payment_id)
    if payment is None:
        raise PaymentNotFoundError()
    # Locks are always taken order first, then its payments (as a new attempt does), so a
    # decline racing a new attempt waits instead of deadlocking.
    order_service.get(session, payment.order_id, for_update=True)
    payment = repository.get(session, payment_id) or payment
    now = clock.now()
    actor = f"{source}:{payment.provider.value}"
    details = {"payment_id": payment.id, "attempt": payment.attempt}
    if outcome.status is ProviderStatus.succeeded:
        if not repository.mark_succeeded(session, payment.id, now=now):
            return "already succeeded"
        if order_service.mark_paid(
            session, payment.order_id, payment_id=payment.id, actor=actor, details=details
        ):
            return "order paid"
        if order_service.get(session, payment.order_id).paid_payment_id not in (None, payment.id):
            refunds.request(session, payment, reason="Duplicate payment for an order already paid")
            return "duplicate payment refunded"
        return "succeeded; order not payable"
    if outcome.status is ProviderStatus.failed:
        if not repository.mark_failed(
            session,
            payment.id,
            now=now,
            code=outcome.failure_code,
            message=outcome.failure_message,
        ):
            return "ignored: attempt not pending"
        if repository.latest_attempt_id(session, payment.order_id) != payment.id:
            return "failed; a newer attempt exists"
        order_service.transition(
            session,
            payment.order_id,
            from_states=[OrderState.awaiting_payment],
            to_state=OrderState.payment_failed,
            actor=actor,
            reason=outcome.failure_message or "The payment was declined",
            details={**details, "failure_code": outcome.failure_code or "failed"},
        )
        return "payment failed"
    repository.touch(session, payment.id, now=now)
    return "still pending"


def attempts(session: Session, order_id: int) -> list[Payment]:
    return repository.for_order(session, order_id)


def by_reference(session: Session, provider: str, reference: str) -> Payment | None:
    return repository.by_reference(session, provider, reference)


def by_key(session: Session, idempotency_key: str) -> Payment | None:
    return repository.by_key(session, idempotency_key)


def refund(session: Session, *, order_id: int, reason: str) -> bool:
    """Record the intent to give back the order's successful payment and enqueue the
    ``payment.refund`` job (the provider is called after commit; when it confirms, the order
    moves to ``refunded``). Idempotent: returns False when there is nothing (more) to
    refund."""
    return refunds.refund_order(session, order_id=order_id, reason=reason)

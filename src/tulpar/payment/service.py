"""Payments: attempts to collect an order's amount, what the providers say about them, and
refunds. Provider calls never happen here with a write transaction open: callers commit the
intent first (see :func:`provider_request`, :func:`call_provider`, :func:`record_start`)."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from typing import Any

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
    Payment,
    PaymentProviderName,
    PaymentState,
)
from tulpar.money import Money
from tulpar.order import service as order_service
from tulpar.payment import refunds, repository
from tulpar.wallet import service as wallet_service


class PaymentOutcome(enum.StrEnum):
    """What an attempt's new status means; what it does to the order is fulfilment's call."""

    succeeded = "succeeded"
    already_succeeded = "already succeeded"
    failed = "failed"
    failed_superseded = "failed; a newer attempt exists"
    not_pending = "ignored: attempt not pending"
    pending = "still pending"


@dataclass(frozen=True, slots=True)
class PaymentReport:
    outcome: PaymentOutcome
    payment_id: int
    order_id: int
    actor: str  # who told us: "webhook:sandbox", "provider:wallet", …
    details: dict[str, Any] = field(default_factory=dict)
    failure_message: str | None = None


class PaymentNotFoundError(TulparError):
    status = 404
    code = "payment_not_found"
    title = "Payment not found"


def _new_key() -> str:
    return "tlp_pay_" + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class StartedAttempt:
    payment: Payment
    report: PaymentReport | None  # when the attempt settled at once (wallet)


def start_attempt(
    session: Session, order: Order, *, provider: PaymentProviderName, placed_now: bool = False
) -> StartedAttempt:
    """A new payment attempt for ``order``. ``wallet`` pays at once (debit in this
    transaction, reported as succeeded; :class:`InsufficientFundsError` leaves everything as
    it was); ``sandbox`` gets its pay page at once (no network); ``stripe`` waits for
    :func:`call_provider` after the caller commits. ``placed_now``: the order was placed in
    this transaction, so it has no earlier attempt to cancel or to number after."""
    now = clock.now()
    if not placed_now:
        repository.cancel_pending(session, order.id, now=now)
    payment = repository.add(
        session,
        Payment(
            order_id=order.id,
            card_id=order.card_id,
            attempt=1 if placed_now else repository.next_attempt(session, order.id),
            provider=provider,
            state=PaymentState.pending,
            idempotency_key=_new_key(),
            amount_minor=order.amount_minor,
            currency=order.currency,
            checked_at=now,
            # Set, not left out, so the update that records the start keeps this copy in step.
            provider_reference=None,
            next_action=None,
        ),
    )
    report = None
    if provider is PaymentProviderName.wallet:
        report = _pay_from_wallet(session, order, payment)
    elif provider is PaymentProviderName.sandbox:
        # The sandbox's "create" is computed locally, so it is safe inside the transaction.
        report = record_start(
            session, payment.id, call_provider(_request(order, payment), "sandbox")
        )
    if report is None:  # still pending: this copy is as written (see above)
        return StartedAttempt(payment, None)
    return StartedAttempt(repository.get(session, payment.id) or payment, report)


def _pay_from_wallet(session: Session, order: Order, payment: Payment) -> PaymentReport:
    wallet_service.move(
        session,
        card_id=order.card_id,
        amount=Money(-order.amount_minor, order.currency),
        cause=LedgerCause.order,
        order_id=order.id,
        reason=f"payment {payment.id}",
    )
    return apply_status(
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
    if payment is None or not awaits_provider(payment):
        return None
    order = order_service.get(session, payment.order_id)
    return PendingStart(payment.id, payment.provider.value, _request(order, payment))


def awaits_provider(payment: Payment) -> bool:
    """Whether the attempt (as read) has still to be sent to its provider."""
    return (
        payment.provider_reference is None
        and payment.provider is not PaymentProviderName.wallet
        and payment.state is PaymentState.pending
    )


def call_provider(request: PaymentRequest, provider: str) -> ProviderPayment:
    """The network call (no transaction may be open). Raises :class:`ProviderError`."""
    return provider_for(provider).create_payment(request)


def record_start(
    session: Session, payment_id: int, outcome: ProviderPayment
) -> PaymentReport | None:
    """Keep the provider's reference and the payer's next action, then apply its status
    (reported unless still pending)."""
    repository.record_start(
        session,
        payment_id,
        reference=outcome.reference,
        next_action=outcome.next_action,
        now=clock.now(),
    )
    if outcome.status is ProviderStatus.pending:
        return None
    return apply_status(session, payment_id, outcome)


def apply_status(
    session: Session, payment_id: int, outcome: ProviderPayment, *, source: str = "provider"
) -> PaymentReport:
    """Record what the provider says about one attempt; safe to repeat and to receive out of
    order. The order is locked (not moved) so that reports about one order are handled one
    after the other."""
    # Only its order is read before the lock, and that never changes: the copy the caller
    # holds will do.
    payment = repository.held(session, payment_id)
    if payment is None:
        raise PaymentNotFoundError()
    # Locks are always taken order first, then its payments (as a new attempt does), so a
    # decline racing a new attempt waits instead of deadlocking.
    order_service.get(session, payment.order_id, for_update=True)
    payment = repository.get(session, payment_id) or payment
    now = clock.now()

    def report(result: PaymentOutcome) -> PaymentReport:
        return PaymentReport(
            outcome=result,
            payment_id=payment.id,
            order_id=payment.order_id,
            actor=f"{source}:{payment.provider.value}",
            details={"payment_id": payment.id, "attempt": payment.attempt},
            failure_message=outcome.failure_message,
        )

    if outcome.status is ProviderStatus.succeeded:
        if not repository.mark_succeeded(session, payment.id, now=now):
            return report(PaymentOutcome.already_succeeded)
        return report(PaymentOutcome.succeeded)
    if outcome.status is ProviderStatus.failed:
        if not repository.mark_failed(
            session,
            payment.id,
            now=now,
            code=outcome.failure_code,
            message=outcome.failure_message,
        ):
            return report(PaymentOutcome.not_pending)
        if repository.latest_attempt_id(session, payment.order_id) != payment.id:
            return report(PaymentOutcome.failed_superseded)
        failed = report(PaymentOutcome.failed)
        failed.details["failure_code"] = outcome.failure_code or "failed"
        return failed
    repository.touch(session, payment.id, now=now)
    return report(PaymentOutcome.pending)


def attempts(session: Session, order_id: int) -> list[Payment]:
    return repository.for_order(session, order_id)


def by_reference(session: Session, provider: str, reference: str) -> Payment | None:
    return repository.by_reference(session, provider, reference)


def by_key(session: Session, idempotency_key: str) -> Payment | None:
    return repository.by_key(session, idempotency_key)


def get(session: Session, payment_id: int) -> Payment:
    payment = repository.get(session, payment_id)
    if payment is None:
        raise PaymentNotFoundError()
    return payment


def refund_payment(session: Session, payment_id: int, *, reason: str) -> bool:
    """Give back one attempt's money in full, once (e.g. a duplicate payment)."""
    return refunds.request(session, get(session, payment_id), reason=reason)


def refund(session: Session, *, order_id: int, reason: str) -> bool:
    """Record the intent to give back the order's successful payment and enqueue the
    ``payment.refund`` job (the provider is called after commit; when it confirms, the order
    moves to ``refunded``). Idempotent: returns False when there is nothing (more) to
    refund."""
    return refunds.refund_order(session, order_id=order_id, reason=reason)

"""Refunds: the intent is recorded in the caller's transaction with its job; the job sends
it to the provider with no transaction open and records the answer. What a settled refund
means for the order (and for support) is reported, not acted on here."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.integrations.payments.protocol import ProviderError, ProviderRefund
from tulpar.jobs import defer_in_transaction
from tulpar.models import LedgerCause, Payment, PaymentProviderName, Refund, RefundState
from tulpar.money import Money
from tulpar.payment import repository
from tulpar.wallet import service as wallet_service

log = structlog.get_logger()

REFUND_TASK = "payment.refund"
# Retries of the payment.refund job; when the last try fails too, support steps in.
REFUND_ATTEMPTS = 10


class RefundOutcome(enum.StrEnum):
    succeeded = "succeeded"  # the money went back
    failed = "failed"  # the provider refused: a person must look
    gave_up = "gave_up"  # every try of the job failed: a person must look
    unsettled = "unsettled"  # pending at the provider for days: a person must look
    pending = "pending"  # accepted by the provider, not settled yet


@dataclass(frozen=True, slots=True)
class RefundReport:
    outcome: RefundOutcome
    refund_id: int
    payment_id: int
    order_id: int
    amount: Money
    reason: str  # why we refunded
    why: str | None = None  # why it did not go through

    @classmethod
    def of(
        cls, refund_row: Refund, outcome: RefundOutcome, *, why: str | None = None
    ) -> RefundReport:
        return cls(
            outcome=outcome,
            refund_id=refund_row.id,
            payment_id=refund_row.payment_id,
            order_id=refund_row.order_id,
            amount=Money(refund_row.amount_minor, refund_row.currency),
            reason=refund_row.reason,
            why=why,
        )


def refund_order(session: Session, *, order_id: int, reason: str) -> bool:
    """See :func:`tulpar.payment.service.refund`."""
    payments = repository.succeeded_without_refund(session, order_id)
    if not payments:
        return False
    return request(session, payments[0], reason=reason)


def request(session: Session, payment: Payment, *, reason: str) -> bool:
    """Refund one payment in full, once (unique per payment)."""
    refund_id = repository.add_refund_unless_exists(
        session,
        {
            "payment_id": payment.id,
            "order_id": payment.order_id,
            "state": RefundState.requested,
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "reason": reason,
            "idempotency_key": "tlp_ref_" + secrets.token_hex(16),
        },
    )
    if refund_id is None:
        return False
    defer_in_transaction(session, REFUND_TASK, refund_id=refund_id)
    return True


@dataclass(frozen=True, slots=True)
class PendingRefund:
    refund_id: int
    provider: str
    payment_reference: str
    idempotency_key: str
    amount_minor: int
    currency: str
    reason: str


def refund_to_send(session: Session, refund_id: int) -> PendingRefund | RefundReport | None:
    """The refund still to send to a provider; wallet refunds are completed right here (and
    reported). None when there is nothing (more) to do."""
    refund_row = repository.refund_for_update(session, refund_id)
    if refund_row is None or refund_row.state is not RefundState.requested:
        return None
    payment = repository.get(session, refund_row.payment_id)
    assert payment is not None
    if payment.provider is PaymentProviderName.wallet:
        wallet_service.move(
            session,
            card_id=payment.card_id,
            amount=Money(refund_row.amount_minor, refund_row.currency),
            cause=LedgerCause.refund,
            order_id=payment.order_id,
            reason=refund_row.reason,
        )
        return record_refund(
            session, refund_id, succeeded=True, reference=None, failure_message=None
        )
    return PendingRefund(
        refund_id=refund_row.id,
        provider=payment.provider.value,
        payment_reference=payment.provider_reference or "",
        idempotency_key=refund_row.idempotency_key,
        amount_minor=refund_row.amount_minor,
        currency=refund_row.currency,
        reason=refund_row.reason,
    )


def record_answer(session: Session, refund_id: int, answer: ProviderRefund) -> RefundReport | None:
    """The provider's answer to the ``payment.refund`` job, or to the re-query of a refund
    left pending. An accepted but unsettled refund is only marked ``pending`` (a refund
    already pending stays as it is): the order is not ``refunded`` until the provider says
    the money went back. None when nothing changed."""
    if answer.pending:
        marked = repository.mark_refund_pending(
            session,
            refund_id,
            reference=answer.reference or None,
            failure_message=answer.failure_message,
            now=clock.now(),
        )
        refund_row = repository.refund_for_update(session, refund_id) if marked else None
        return None if refund_row is None else RefundReport.of(refund_row, RefundOutcome.pending)
    return record_refund(
        session,
        refund_id,
        succeeded=answer.succeeded,
        reference=answer.reference or None,
        failure_message=answer.failure_message,
    )


def refund_for_event(
    session: Session, provider_name: str, *, refund_reference: str | None, refund_key: str | None
) -> Refund | None:
    """The refund a provider event is about: by the provider's refund id, else by our key
    echoed in its metadata (the event may overtake the answer that carried the id). A refund
    made elsewhere, e.g. in the provider's dashboard, matches neither."""
    if refund_reference:
        found = repository.refund_by_reference(session, provider_name, refund_reference)
        if found is not None:
            return found
    if refund_key:
        return repository.refund_by_key(session, provider_name, refund_key)
    return None


def record_refund(
    session: Session,
    refund_id: int,
    *,
    succeeded: bool,
    reference: str | None,
    failure_message: str | None,
) -> RefundReport | None:
    """The provider's settled answer, once: None when the refund was settled before."""
    refund_row = repository.refund_for_update(session, refund_id)
    if refund_row is None or not repository.finish_refund(
        session,
        refund_id,
        state=RefundState.succeeded if succeeded else RefundState.failed,
        reference=reference,
        failure_message=failure_message,
        now=clock.now(),
    ):
        return None
    if not succeeded:
        log.error("payment.refund_failed", refund_id=refund_id, reason=failure_message)
        return RefundReport.of(refund_row, RefundOutcome.failed, why=failure_message or "refused")
    return RefundReport.of(refund_row, RefundOutcome.succeeded)


def report_unsettled(session: Session, refund_id: int, *, days: int) -> RefundReport | None:
    """A refund the provider has kept ``pending`` for days."""
    refund_row = repository.refund_for_update(session, refund_id)
    if refund_row is None or refund_row.state is not RefundState.pending:
        return None
    return RefundReport.of(
        refund_row, RefundOutcome.unsettled, why=f"still pending at the provider after {days} days"
    )


def count_refund_failure(
    session: Session, refund_id: int, error: ProviderError
) -> RefundReport | None:
    """One more failed try; reported once the job's retries are used up."""
    repository.count_refund_attempt(session, refund_id, failure_message=str(error)[:500])
    refund_row = repository.refund_for_update(session, refund_id)
    if refund_row is None or refund_row.attempts <= REFUND_ATTEMPTS:
        return None
    return RefundReport.of(refund_row, RefundOutcome.gave_up, why=str(error)[:200])

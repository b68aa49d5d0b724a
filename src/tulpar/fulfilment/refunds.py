"""What a refund's news does: once the money back for the attempt that paid the order adds
up to what it paid, the order is ``refunded`` (a part leaves it where it is); a refund that
does not go through brings in a person. Support's refunds, whole or partial, start here too
(:func:`request_by_support`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tulpar.errors import InvalidInputError, TulparError
from tulpar.fulfilment import pricing, tickets
from tulpar.jobs import defer_in_transaction
from tulpar.kit import metrics
from tulpar.kit.format import formatter_for
from tulpar.models import Order, Payment, PaymentState, Refund, RefundState, TicketKind
from tulpar.money import Money
from tulpar.notification import service as notification_service
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.partner_webhook import service as partner_webhook_service
from tulpar.payment import repository as payment_repository
from tulpar.payment.refunds import REFUND_TASK, RefundOutcome, RefundReport

ACTOR = "system:payments"


def _show(amount: Money) -> str:
    # Support reads tickets in English.
    return formatter_for("en").money(amount.amount_minor, amount.currency)


def on_refund(session: Session, report: RefundReport) -> str:
    """Act on one report; returns what happened (the inbox records it)."""
    metrics.refund_outcome(report.outcome.value)
    if report.outcome is RefundOutcome.succeeded:
        # Refunding a duplicate payment leaves the order as it is; refunding the one that
        # paid it (or, for orders written without that link, any payment) makes it refunded.
        paid_by = order_service.get(session, report.order_id).paid_payment_id
        payment = session.get(Payment, report.payment_id)
        whole = payment is None or refunded_minor(session, payment) >= payment.amount_minor
        if paid_by in (None, report.payment_id) and whole:
            refunded = order_service.move(
                session,
                report.order_id,
                OrderMove.refund,
                actor=ACTOR,
                reason=report.reason,
                details={"refund_id": report.refund_id, "payment_id": report.payment_id},
            )
            if refunded:
                # Its promotion's redemption goes back to the promotion.
                pricing.give_back(session, report.order_id)
                partner_webhook_service.record_order_event(session, report.order_id, "refunded")
        return f"refund {report.refund_id} succeeded"
    if report.outcome is RefundOutcome.pending:
        return f"refund {report.refund_id} pending"
    order = order_service.get(session, report.order_id)
    tickets.open_for_order(
        session,
        order,
        kind=TicketKind.refund_failed,
        subject=f"Order {order.id}: refund of {_show(report.amount)} failed ({report.why})",
        opened_by="system:payment",
    )
    return f"refund {report.refund_id} failed"


# Refund states that count as money given back or on its way (a failed one does not).
_COUNTED = (RefundState.requested, RefundState.pending, RefundState.succeeded)


def refunded_minor(session: Session, payment: Payment, *, settled_only: bool = True) -> int:
    """How much of ``payment`` went back (``settled_only=False``: or is on its way)."""
    states = (RefundState.succeeded,) if settled_only else _COUNTED
    query = select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.payment_id == payment.id, Refund.state.in_(states)
    )
    return int(session.scalar(query) or 0)


class NothingToRefundError(TulparError):
    status = 409
    code = "nothing_to_refund"
    title = "Nothing (more) of this order can be refunded"


class RefundAmountInvalidError(InvalidInputError):
    code = "refund_amount_invalid"
    title = "The amount must be more than zero and at most what is left to refund"


@dataclass(frozen=True, slots=True)
class RefundRequested:
    refund_id: int
    amount: Money
    refundable_before: Money  # what was left to refund before this one


def paying_payment(session: Session, order: Order, *, for_update: bool = False) -> Payment | None:
    """The succeeded attempt that paid ``order`` (its provider gets the refund)."""
    query = select(Payment).where(
        Payment.order_id == order.id, Payment.state == PaymentState.succeeded
    )
    if order.paid_payment_id is not None:
        query = query.where(Payment.id == order.paid_payment_id)
    query = query.order_by(Payment.succeeded_at, Payment.id).limit(1)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def refundable(session: Session, order: Order) -> Money:
    """What is left to give back of the order's payment (requested refunds count as given)."""
    payment = paying_payment(session, order)
    if payment is None:
        return Money(0, order.currency)
    left = payment.amount_minor - refunded_minor(session, payment, settled_only=False)
    return Money(max(left, 0), payment.currency)


def request_by_support(
    session: Session, order: Order, *, amount_minor: int | None, reason: str
) -> RefundRequested:
    """Refund ``amount_minor`` (None: all that is left) of the order's payment through the
    provider that took it, as the next numbered refund of that payment. The payment row is
    locked, so two clicks cannot both refund what is left. Never commits."""
    payment = paying_payment(session, order, for_update=True)
    if payment is None:
        raise NothingToRefundError()
    already = refunded_minor(session, payment, settled_only=False)
    left = payment.amount_minor - already
    if left <= 0:
        raise NothingToRefundError()
    amount = left if amount_minor is None else amount_minor
    if amount <= 0 or amount > left:
        raise RefundAmountInvalidError()
    number = 1 + int(
        session.scalar(
            select(func.coalesce(func.max(Refund.number), 0)).where(Refund.payment_id == payment.id)
        )
        or 0
    )
    refund_id = payment_repository.add_refund_unless_exists(
        session,
        {
            "payment_id": payment.id,
            "order_id": order.id,
            "number": number,
            "state": RefundState.requested,
            "amount_minor": amount,
            "currency": payment.currency,
            "reason": reason,
            "idempotency_key": "tlp_ref_" + secrets.token_hex(16),
        },
    )
    if refund_id is None:  # another refund took this number meanwhile
        raise NothingToRefundError()
    defer_in_transaction(session, REFUND_TASK, refund_id=refund_id)
    notification_service.queue_sms(
        session,
        card_id=order.card_id,
        template="refund_issued",
        context={"order": order.id, "amount_minor": amount, "currency": payment.currency},
        dedupe_key=f"refund:{refund_id}:issued",
    )
    return RefundRequested(
        refund_id=refund_id,
        amount=Money(amount, payment.currency),
        refundable_before=Money(left, payment.currency),
    )

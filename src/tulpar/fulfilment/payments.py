"""What a payment attempt's news does to its order: money arriving pays it (or, when another
attempt already did, is given back), a decline of the latest attempt fails the payment."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.fulfilment.paid import InLineProvisioning, on_paid
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.payment import service as payment_service
from tulpar.payment.service import PaymentOutcome, PaymentReport


def on_payment(
    session: Session, report: PaymentReport, *, in_line: InLineProvisioning | None = None
) -> str:
    """Act on one report; returns what happened (the inbox records it). With ``in_line``, a
    renewal this pays may be provisioned by the running job itself (see
    :class:`~tulpar.fulfilment.paid.InLineProvisioning`)."""
    if report.outcome is PaymentOutcome.succeeded:
        return _money_arrived(session, report, in_line)
    if report.outcome is PaymentOutcome.failed:
        order_service.move(
            session,
            report.order_id,
            OrderMove.decline_payment,
            actor=report.actor,
            reason=report.failure_message or "The payment was declined",
            details=report.details,
        )
        return "payment failed"
    return report.outcome.value


def _money_arrived(
    session: Session, report: PaymentReport, in_line: InLineProvisioning | None
) -> str:
    if order_service.pay(
        session,
        report.order_id,
        payment_id=report.payment_id,
        actor=report.actor,
        details=report.details,
    ):
        # Moved (so locked) by this transaction: the session's copy is current.
        on_paid(session, order_service.held(session, report.order_id), in_line=in_line)
        return "order paid"
    if order_service.get(session, report.order_id).paid_payment_id not in (
        None,
        report.payment_id,
    ):
        payment_service.refund_payment(
            session, report.payment_id, reason="Duplicate payment for an order already paid"
        )
        return "duplicate payment refunded"
    return "succeeded; order not payable"

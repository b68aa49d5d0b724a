"""What a refund's news does: the money back for the attempt that paid the order makes the
order ``refunded``; a refund that does not go through brings in a person."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.fulfilment import tickets
from tulpar.kit.format import formatter_for
from tulpar.models import TicketKind
from tulpar.money import Money
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.payment.refunds import RefundOutcome, RefundReport

ACTOR = "system:payments"


def _show(amount: Money) -> str:
    # Support reads tickets in English.
    return formatter_for("en").money(amount.amount_minor, amount.currency)


def on_refund(session: Session, report: RefundReport) -> str:
    """Act on one report; returns what happened (the inbox records it)."""
    if report.outcome is RefundOutcome.succeeded:
        # Refunding a duplicate payment leaves the order as it is; refunding the one that
        # paid it (or, for orders written without that link, any payment) makes it refunded.
        paid_by = order_service.get(session, report.order_id).paid_payment_id
        if paid_by in (None, report.payment_id):
            order_service.move(
                session,
                report.order_id,
                OrderMove.refund,
                actor=ACTOR,
                reason=report.reason,
                details={"refund_id": report.refund_id, "payment_id": report.payment_id},
            )
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

"""An order as the API shows it: state, frozen price, payment attempts and the timeline."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.api.schemas.balance import MoneyAmount
from tulpar.api.schemas.order import OrderEventOut, OrderOut, PaymentOut, ReceiptLinks
from tulpar.api.schemas.promotion import PromotionOut
from tulpar.config import get_settings
from tulpar.fulfilment import pricing
from tulpar.models import Order, OrderState, Payment
from tulpar.order import service as order_service
from tulpar.payment import service as payment_service
from tulpar.receipt import service as receipt_service


def payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut(
        id=payment.id,
        attempt=payment.attempt,
        provider=payment.provider.value,
        state=payment.state.value,
        amount=MoneyAmount(amount_minor=payment.amount_minor, currency=payment.currency),
        next_action=payment.next_action,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        created_at=payment.created_at,
    )


def promotion_out(
    *,
    code: str | None,
    names: dict[str, str],
    currency: str,
    list_minor: int,
    discount_minor: int,
    bonus_data_bytes: int,
    bonus_days: int,
) -> PromotionOut:
    return PromotionOut(
        code=code,
        names=names,
        list_price=MoneyAmount(amount_minor=list_minor, currency=currency),
        discount=MoneyAmount(amount_minor=discount_minor, currency=currency),
        bonus_data_bytes=bonus_data_bytes,
        bonus_days=bonus_days,
    )


def _promotion(session: Session, order: Order) -> PromotionOut | None:
    applied = pricing.applied_to(session, order)
    if applied is None:
        return None
    return promotion_out(
        code=applied.code,
        names=applied.names,
        currency=order.currency,
        list_minor=applied.list_amount_minor,
        discount_minor=applied.discount_minor,
        bonus_data_bytes=applied.bonus_data_bytes,
        bonus_days=applied.bonus_days,
    )


def order_out(session: Session, order: Order, *, attempts: list[Payment] | None = None) -> OrderOut:
    """``order`` as read in this transaction after its last move; ``attempts``: all of its
    payment attempts, when the caller has just written them (a new order's first)."""
    session.flush()
    if attempts is None:
        attempts = payment_service.attempts(session, order.id)
    payments = [payment_out(p) for p in attempts]
    return OrderOut(
        id=order.id,
        kind=order.kind.value,
        state=order.state.value,
        iccid=order_service.iccid_of(session, order),
        plan=order_service.plan_code_of(session, order),
        channel=order.channel.value,
        amount=MoneyAmount(amount_minor=order.amount_minor, currency=order.currency),
        promo_code=order.promo_code,
        promotion=_promotion(session, order),
        payable_until=order.payable_until,
        created_at=order.created_at,
        payment=payments[-1] if payments else None,
        payments=payments,
        timeline=[
            OrderEventOut(
                from_state=None if event.from_state is None else event.from_state.value,
                to_state=event.to_state.value,
                actor=event.actor,
                reason=event.reason,
                details=event.details,
                occurred_at=event.occurred_at,
            )
            for event in order_service.timeline(session, order.id)
        ],
        receipt=_receipt_links(session, order),
    )


# A receipt is issued when an order's money arrives: one never paid has none.
_NEVER_PAID = frozenset(
    {OrderState.awaiting_payment, OrderState.payment_failed, OrderState.expired}
)


def _receipt_links(session: Session, order: Order) -> ReceiptLinks | None:
    if order.state in _NEVER_PAID:
        return None
    receipt = receipt_service.for_order(session, order.id)
    if receipt is None:
        return None
    base = get_settings().public_base_url.rstrip("/")
    return ReceiptLinks(
        number=receipt.number,
        html_url=f"{base}/receipts/{receipt.public_id}",
        pdf_url=f"{base}/receipts/{receipt.public_id}.pdf",
        verify_url=receipt_service.verification_url(receipt),
    )

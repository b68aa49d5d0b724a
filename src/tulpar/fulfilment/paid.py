"""An order was paid: a renewal is queued for provisioning; a top-up is credited and completed
at once (there is nothing to provision on the network)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.models import LedgerCause, Order, OrderKind
from tulpar.money import Money
from tulpar.notification import service as notification_service
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.provisioning import service as provisioning_service
from tulpar.receipt import service as receipt_service
from tulpar.receipt.service import ReceiptLine
from tulpar.wallet import service as wallet_service

TOPUP_ACTOR = "system:order.topup"


def on_paid(session: Session, order: Order) -> None:
    if order.kind is OrderKind.plan_renewal:
        # Under the card's job lock, so renewals of one card are applied one after the other.
        provisioning_service.enqueue(session, order_id=order.id, card_id=order.card_id)
    else:
        _complete_topup(session, order)


def _complete_topup(session: Session, order: Order) -> None:
    wallet_service.move(
        session,
        card_id=order.card_id,
        amount=Money(order.amount_minor, order.currency),
        cause=LedgerCause.order,
        order_id=order.id,
        actor=TOPUP_ACTOR,
        reason="Wallet top-up",
    )
    order_service.move(
        session,
        order.id,
        OrderMove.complete,
        actor=TOPUP_ACTOR,
        reason="Wallet credited",
        details={"amount_minor": order.amount_minor, "currency": order.currency},
    )
    notification_service.queue_sms(
        session,
        card_id=order.card_id,
        template="topup_confirmed",
        context={"amount_minor": order.amount_minor, "currency": order.currency},
        dedupe_key=f"order:{order.id}:topup_confirmed",
    )
    receipt_service.issue(
        session,
        issuer=order.channel.value.upper(),
        card_id=order.card_id,
        order_id=order.id,
        lines=[ReceiptLine("Wallet top-up", 1, order.amount_minor)],
        payment_method=order.payment_provider,
        currency=order.currency,
    )

"""Orders after they are placed: their states, the timeline (order events) support reads,
what happens once they are paid, and abandoned ones expiring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.errors import TulparError
from tulpar.models import Order, OrderEvent, OrderKind, OrderState
from tulpar.order import repository

# States from which money arriving pays the order. A late payment for an expired order is
# honoured rather than left hanging: the payer has paid, so they get what they bought.
PAYABLE_BY_SUCCESS = (OrderState.awaiting_payment, OrderState.payment_failed, OrderState.expired)
# States in which the payer may start a new payment attempt.
OPEN_FOR_PAYMENT = (OrderState.awaiting_payment, OrderState.payment_failed)


class OrderNotFoundError(TulparError):
    # Same answer for "no such order" and "not yours".
    status = 404
    code = "order_not_found"
    title = "Order not found"


def transition(
    session: Session,
    order_id: int,
    *,
    from_states: Iterable[OrderState],
    to_state: OrderState,
    actor: str,
    reason: str,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Move an order to ``to_state`` if it is in one of ``from_states`` (one atomic
    ``UPDATE … WHERE state IN (…)``) and write the order event. Returns False, changing
    nothing, when the order had already moved on (or does not exist)."""
    now = clock.now()
    moved = repository.transition(
        session, order_id, from_states=list(from_states), to_state=to_state, now=now
    )
    if moved is None:
        return False
    from_state, card_id = moved
    repository.add_event(
        session,
        OrderEvent(
            order_id=order_id,
            card_id=card_id,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
            details=dict(details or {}),
            occurred_at=now,
        ),
    )
    return True


def record_placed(
    session: Session, order: Order, *, actor: str, details: Mapping[str, Any]
) -> None:
    """The first event of an order's timeline."""
    repository.add_event(
        session,
        OrderEvent(
            order_id=order.id,
            card_id=order.card_id,
            from_state=None,
            to_state=order.state,
            actor=actor,
            reason="Order placed",
            details=dict(details),
            occurred_at=order.state_changed_at,
        ),
    )


def get(session: Session, order_id: int, *, for_update: bool = False) -> Order:
    order = repository.get(session, order_id, for_update=for_update)
    if order is None:
        raise OrderNotFoundError()
    return order


def timeline(session: Session, order_id: int) -> list[OrderEvent]:
    return repository.events_of(session, order_id)


def mark_paid(
    session: Session,
    order_id: int,
    *,
    payment_id: int,
    actor: str,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Money for the order arrived through ``payment_id``. In the same transaction: a renewal
    gets its ``provisioning.apply`` job; a top-up credits the wallet and completes. Returns
    False (nothing changed) when the order was not payable any more, e.g. already paid."""
    if not transition(
        session,
        order_id,
        from_states=PAYABLE_BY_SUCCESS,
        to_state=OrderState.paid,
        actor=actor,
        reason="Payment received",
        details=details,
    ):
        return False
    repository.set_paid_payment(session, order_id, payment_id)
    order = get(session, order_id)
    if order.kind is OrderKind.plan_renewal:
        # provisioning imports this module; its enqueue adds the per-card lock so renewals
        # of one card are applied one after the other.
        from tulpar.provisioning import service as provisioning_service

        provisioning_service.enqueue(session, order_id=order_id, card_id=order.card_id)
    else:
        from tulpar.order import topup  # topup moves the order on with transition()

        topup.complete(session, order)
    return True


def expire_abandoned(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Orders nobody paid within the payment window become ``expired``."""
    expired = 0
    for order_id in repository.abandoned_ids(session, now=now, limit=limit):
        expired += transition(
            session,
            order_id,
            from_states=OPEN_FOR_PAYMENT,
            to_state=OrderState.expired,
            actor="system:order.expire_abandoned",
            reason="Not paid within the payment window",
        )
    return expired

"""Orders after they are placed: the one place their state moves (the table in
:mod:`.moves`), the timeline (order events) support reads, who may see one, and abandoned
orders expiring. Reactions to a move (provisioning, SMS, receipts, refunds) are not here:
:mod:`tulpar.fulfilment` runs them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.errors import TulparError
from tulpar.kit import request_id as request_id_context
from tulpar.kit import sweep
from tulpar.models import Order, OrderEvent, Plan
from tulpar.order import repository
from tulpar.order.moves import OPEN_FOR_PAYMENT, TRANSITIONS, OrderMove

__all__ = ["OPEN_FOR_PAYMENT", "OrderMove", "OrderNotFoundError"]


class OrderNotFoundError(TulparError):
    # Same answer for "no such order" and "not yours".
    status = 404
    code = "order_not_found"
    title = "Order not found"


def move(
    session: Session,
    order_id: int,
    order_move: OrderMove,
    *,
    actor: str,
    reason: str,
    details: Mapping[str, Any] | None = None,
    paid_payment_id: int | None = None,
) -> bool:
    """Make ``order_move`` if the order's kind and state allow it and write the order event
    (one atomic statement). Returns False, changing nothing, when the order had already
    moved on (or does not exist). ``paid_payment_id``: see :func:`pay`."""
    transition = TRANSITIONS[order_move]
    moved = repository.transition(
        session,
        order_id,
        from_pairs=transition.pairs(),
        to_state=transition.to_state,
        now=clock.now(),
        actor=actor,
        reason=reason,
        details=_with_request_id(details),
        paid_payment_id=paid_payment_id,
    )
    return moved is not None


def _with_request_id(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The event's details, plus the id of the request or job that made the move."""
    recorded = dict(details or {})
    request_id = request_id_context.current()
    if request_id is not None:
        recorded.setdefault("request_id", request_id)
    return recorded


def pay(
    session: Session,
    order_id: int,
    *,
    payment_id: int,
    actor: str,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Money for the order arrived through ``payment_id``: the order is ``paid`` and
    remembers which attempt paid it. False (nothing changed) when it was not payable any
    more, e.g. already paid by another attempt."""
    return move(
        session,
        order_id,
        OrderMove.pay,
        actor=actor,
        reason="Payment received",
        details=details,
        paid_payment_id=payment_id,
    )


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


def held(session: Session, order_id: int) -> Order:
    """The order as this session holds it: for what is fixed when it is placed, and for its
    state once this transaction has locked it (see ``repository.held``)."""
    order = repository.held(session, order_id)
    if order is None:
        raise OrderNotFoundError()
    return order


def visible_order(session: Session, caller: Caller, order_id: int) -> Order:
    """The order if this caller placed it (partner) or holds its card (traveller); the same
    404 otherwise, so order numbers reveal nothing."""
    auth_service.ensure_may_buy(caller)
    order = repository.get(session, order_id)
    if order is None:
        raise OrderNotFoundError()
    if caller.partner_id is not None and order.partner_id == caller.partner_id:
        return order
    if caller.card_id is not None and order.card_id == caller.card_id:
        return order
    raise OrderNotFoundError()


def timeline(session: Session, order_id: int) -> list[OrderEvent]:
    return repository.events_of(session, order_id)


def iccid_of(session: Session, order: Order) -> str:
    return repository.iccid_of(session, order.card_id)


def plan_code_of(session: Session, order: Order) -> str | None:
    return None if order.plan_id is None else repository.plan_code_of(session, order.plan_id)


def plan_of(session: Session, order: Order) -> Plan:
    """The plan a renewal order bought (a top-up has none: LookupError)."""
    if order.plan_id is None:
        raise LookupError(f"order {order.id} is not a plan renewal")
    return repository.plan(session, order.plan_id)


def is_first_purchase(session: Session, card_id: int) -> bool:
    """No renewal of this card was ever paid (a promotion condition)."""
    return not repository.has_renewed(session, card_id)


def expire_abandoned(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Orders nobody paid within the payment window become ``expired``."""
    expired = 0

    def one(order_id: int) -> None:
        nonlocal expired
        expired += move(
            session,
            order_id,
            OrderMove.expire,
            actor="system:order.expire_abandoned",
            reason="Not paid within the payment window",
        )

    # Each order in its own savepoint: one that fails is logged and the others go on.
    sweep.for_each(
        "order.expire_abandoned",
        repository.abandoned_ids(session, now=now, limit=limit),
        one,
        item_id=lambda order_id: f"order {order_id}",
        session=session,
    )
    return expired

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from tulpar.models import Card, Order, OrderEvent, OrderKind, OrderState, Plan
from tulpar.models.held import hold

# Locks the row, reads the state it had, moves it only from an expected (kind, state) and
# writes the move's event: one statement, so two concurrent movers cannot both win and no
# move goes without its event.
_TRANSITION = text(
    """
    WITH previous AS (
        SELECT id, card_id, kind, state FROM orders WHERE id = :order_id FOR UPDATE
    ), moved AS (
        UPDATE orders SET
            state = :to_state,
            state_changed_at = :now,
            paid_payment_id = coalesce(CAST(:paid_payment_id AS bigint), orders.paid_payment_id)
        FROM previous
        WHERE orders.id = previous.id
          AND previous.kind::text || ':' || previous.state::text = ANY(:from_pairs)
        RETURNING previous.state AS from_state, previous.card_id AS card_id
    )
    INSERT INTO order_events
        (order_id, card_id, from_state, to_state, actor, reason, details, occurred_at)
    SELECT :order_id, card_id, from_state, :to_state, :actor, :reason, :details, :now
    FROM moved
    RETURNING from_state, card_id
    """
).bindparams(bindparam("details", type_=JSONB))


@event.listens_for(Session, "after_soft_rollback")
def _forget_undone_moves(session: Session, previous: SessionTransaction) -> None:
    # A savepoint rolled back undoes the moves made in it, which the session's copies were
    # kept in step with (and releases their locks): read those orders again when next used.
    if previous.nested:
        for instance in list(session.identity_map.values()):
            if isinstance(instance, Order):
                session.expire(instance)


def transition(
    session: Session,
    order_id: int,
    *,
    from_pairs: Sequence[str],
    to_state: OrderState,
    now: datetime,
    actor: str,
    reason: str,
    details: dict[str, Any],
    paid_payment_id: int | None = None,
) -> tuple[OrderState, int] | None:
    """Move the order and write the move's event (``actor``, ``reason``, ``details``;
    ``paid_payment_id``: the attempt that paid, on the pay move); returns (previous state,
    card id), or None, changing nothing, if its ``kind:state`` was not among
    ``from_pairs``."""
    row = session.execute(
        _TRANSITION,
        {
            "order_id": order_id,
            "to_state": to_state.value,
            "from_pairs": list(from_pairs),
            "now": now,
            "actor": actor,
            "reason": reason,
            "details": details,
            "paid_payment_id": paid_payment_id,
        },
    ).one_or_none()
    if row is None:
        return None
    held = session.identity_map.get(identity_key(Order, order_id))
    if held is not None:  # the row is locked until commit: the session's copy stays current
        set_committed_value(held, "state", to_state)
        set_committed_value(held, "state_changed_at", now)
        if paid_payment_id is not None:
            set_committed_value(held, "paid_payment_id", paid_payment_id)
    return OrderState(row.from_state), int(row.card_id)


def add_event(session: Session, event: OrderEvent) -> OrderEvent:
    session.add(event)
    session.flush()
    return event


def add(session: Session, order: Order) -> Order:
    session.add(order)
    session.flush()
    return order


def get(session: Session, order_id: int, *, for_update: bool = False) -> Order | None:
    order = session.get(Order, order_id, populate_existing=True, with_for_update=for_update)
    if for_update and order is not None:
        hold(session, order)  # locked: current until commit (see :func:`held`)
    return order


def held(session: Session, order_id: int) -> Order | None:
    """The order as this session holds it (read only if it holds none): current for what is
    fixed when it is placed (card, kind, plan, channel, amounts, promotion), and for its
    state too once this transaction has locked the row (moved it, or read it for update):
    each move keeps the copy in step. Otherwise its state is read with :func:`get`."""
    return session.get(Order, order_id)


def events_of(session: Session, order_id: int) -> list[OrderEvent]:
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    return list(session.scalars(query))


def abandoned_ids(session: Session, *, now: datetime, limit: int) -> list[int]:
    query = (
        select(Order.id)
        .where(
            Order.state.in_([OrderState.awaiting_payment, OrderState.payment_failed]),
            Order.payable_until <= now,
        )
        .order_by(Order.id)
        .limit(limit)
    )
    return [int(order_id) for order_id in session.scalars(query)]


def iccid_of(session: Session, card_id: int) -> str:
    return session.get_one(Card, card_id).iccid  # the session's copy when it holds one


def plan(session: Session, plan_id: int) -> Plan:
    return session.get_one(Plan, plan_id)


def plan_code_of(session: Session, plan_id: int) -> str:
    return session.get_one(Plan, plan_id).code  # the session's copy when it holds one


def extend_payable(session: Session, order_id: int, *, until: datetime) -> None:
    session.execute(update(Order).where(Order.id == order_id).values(payable_until=until))


def has_renewed(session: Session, card_id: int) -> bool:
    """Whether the card has a renewal that was paid (and not refunded)."""
    query = select(Order.id).where(
        Order.card_id == card_id,
        Order.kind == OrderKind.plan_renewal,
        Order.state.in_([OrderState.paid, OrderState.provisioning, OrderState.completed]),
    )
    return session.execute(query.limit(1)).first() is not None


def page_for_partner(
    session: Session,
    partner_id: int,
    *,
    state: OrderState | None,
    card_id: int | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[Order, str, str | None]]:
    """Up to ``limit`` of the partner's orders placed before ``before`` (created_at, id),
    newest first, each with its card's ICCID and its plan's code."""
    query = (
        select(Order, Card.iccid, Plan.code)
        .join(Card, Card.id == Order.card_id)
        .outerjoin(Plan, Plan.id == Order.plan_id)
        .where(Order.partner_id == partner_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(Order.state == state)
    if card_id is not None:
        query = query.where(Order.card_id == card_id)
    if before is not None:
        query = query.where(tuple_(Order.created_at, Order.id) < tuple_(*before))
    return [(order, iccid, code) for order, iccid, code in session.execute(query)]

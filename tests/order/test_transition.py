"""order.service.transition: the one way an order's state moves, atomic under races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tulpar import clock
from tulpar.db import transaction
from tulpar.models import CardState, Channel, Order, OrderEvent, OrderKind, OrderState
from tulpar.order import service as order_service


def _order(session: Session) -> Order:
    card = create_card(session, state=CardState.active)
    now = clock.now()
    order = Order(
        card_id=card.id,
        kind=OrderKind.wallet_topup,
        channel=Channel.api,
        state=OrderState.awaiting_payment,
        amount_minor=1_000_00,
        currency="KZT",
        payment_provider="sandbox",
        placed_by="test",
        payable_until=now + timedelta(minutes=30),
        state_changed_at=now,
    )
    session.add(order)
    session.flush()
    return order


def test_a_transition_writes_its_event(session: Session) -> None:
    order = _order(session)

    moved = order_service.transition(
        session,
        order.id,
        from_states=[OrderState.awaiting_payment],
        to_state=OrderState.payment_failed,
        actor="webhook:sandbox",
        reason="Declined",
        details={"payment_id": 7},
    )

    assert moved is True
    event = session.scalars(select(OrderEvent)).one()
    assert (event.from_state, event.to_state, event.actor, event.reason, event.details) == (
        OrderState.awaiting_payment,
        OrderState.payment_failed,
        "webhook:sandbox",
        "Declined",
        {"payment_id": 7},
    )
    assert order_service.get(session, order.id).state is OrderState.payment_failed


def test_from_an_unexpected_state_nothing_changes(session: Session) -> None:
    order = _order(session)

    moved = order_service.transition(
        session,
        order.id,
        from_states=[OrderState.provisioning],
        to_state=OrderState.completed,
        actor="test",
        reason="no",
    )

    assert moved is False
    assert session.scalars(select(OrderEvent)).all() == []
    assert order_service.get(session, order.id).state is OrderState.awaiting_payment
    assert not order_service.transition(
        session,
        10**12,
        from_states=[OrderState.paid],
        to_state=OrderState.completed,
        actor="test",
        reason="no such order",
    )


def test_of_eight_concurrent_movers_exactly_one_wins(committed: sessionmaker[Session]) -> None:
    with transaction(committed) as session:
        order_id = _order(session).id
    start = Barrier(8)

    def move(number: int) -> bool:
        with transaction(committed) as session:
            start.wait()
            return order_service.transition(
                session,
                order_id,
                from_states=[OrderState.awaiting_payment, OrderState.payment_failed],
                to_state=OrderState.expired if number % 2 else OrderState.paid,
                actor=f"mover-{number}",
                reason="race",
            )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(move, range(8)))

    assert results.count(True) == 1
    with committed() as session:
        events = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)).all()
        order = session.get(Order, order_id)
    assert len(events) == 1
    assert order is not None
    assert order.state is events[0].to_state
    assert events[0].from_state is OrderState.awaiting_payment

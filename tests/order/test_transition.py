"""order.service.move: the one way an order's state moves, atomic under races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tests.fixtures.statements import statements_run
from tulpar import clock
from tulpar.db import transaction
from tulpar.models import (
    CardState,
    Channel,
    Order,
    OrderEvent,
    OrderKind,
    OrderState,
    Payment,
    PaymentProviderName,
    PaymentState,
)
from tulpar.order import service as order_service
from tulpar.order.moves import TRANSITIONS, OrderMove


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

    moved = order_service.move(
        session,
        order.id,
        OrderMove.decline_payment,
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

    moved = order_service.move(
        session, order.id, OrderMove.start_provisioning, actor="test", reason="no"
    )

    assert moved is False
    assert session.scalars(select(OrderEvent)).all() == []
    assert order_service.get(session, order.id).state is OrderState.awaiting_payment
    assert not order_service.move(
        session, 10**12, OrderMove.expire, actor="test", reason="no such order"
    )


def test_of_eight_concurrent_payments_exactly_one_moves_the_order(
    committed: sessionmaker[Session],
) -> None:
    with transaction(committed) as session:
        order_id = _order(session).id
    start = Barrier(8)

    def move(number: int) -> bool:
        with transaction(committed) as session:
            start.wait()
            return order_service.move(
                session,
                order_id,
                OrderMove.pay,
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


def test_a_move_starts_only_from_the_states_its_kind_allows(session: Session) -> None:
    topup = _order(session)
    session.execute(update(Order).where(Order.id == topup.id).values(state=OrderState.paid))

    # A top-up has nothing to provision: it cannot start provisioning, it completes at once.
    assert not order_service.move(
        session, topup.id, OrderMove.start_provisioning, actor="test", reason="no"
    )
    assert order_service.get(session, topup.id).state is OrderState.paid
    assert order_service.move(session, topup.id, OrderMove.complete, actor="test", reason="ok")
    assert order_service.get(session, topup.id).state is OrderState.completed
    # A paid renewal completes only through provisioning.
    complete = TRANSITIONS[OrderMove.complete]
    assert not complete.allows(OrderKind.plan_renewal, OrderState.paid)
    assert complete.allows(OrderKind.plan_renewal, OrderState.provisioning)


def test_paying_moves_the_order_names_the_attempt_and_writes_the_event_in_one_statement(
    session: Session,
) -> None:
    order = _order(session)
    payment = Payment(
        order_id=order.id,
        card_id=order.card_id,
        attempt=1,
        provider=PaymentProviderName.sandbox,
        state=PaymentState.succeeded,
        idempotency_key="pay-once",
        amount_minor=order.amount_minor,
        currency=order.currency,
        checked_at=clock.now(),
    )
    session.add(payment)
    session.flush()
    with statements_run() as statements:
        paid = order_service.pay(session, order.id, payment_id=payment.id, actor="test")

    assert paid is True
    assert len(statements) == 1, statements
    # The session's copy is kept in step with the move (the row is locked until commit).
    assert (order.state, order.paid_payment_id) == (OrderState.paid, payment.id)
    session.expire_all()
    assert (order.state, order.paid_payment_id) == (OrderState.paid, payment.id)
    assert [(e.from_state, e.to_state, e.reason) for e in session.scalars(select(OrderEvent))] == [
        (OrderState.awaiting_payment, OrderState.paid, "Payment received")
    ]
    # A second payment finds it paid: nothing changes, the first attempt stays named.
    assert not order_service.pay(session, order.id, payment_id=payment.id + 1, actor="test")
    session.expire_all()
    assert order.paid_payment_id == payment.id
    assert len(session.scalars(select(OrderEvent)).all()) == 1


def test_a_move_undone_with_its_savepoint_leaves_the_copy_as_the_row_is(session: Session) -> None:
    order = _order(session)
    savepoint = session.begin_nested()
    assert order_service.move(session, order.id, OrderMove.expire, actor="test", reason="late")
    assert order.state is OrderState.expired  # kept in step with the move
    savepoint.rollback()

    assert order.state is OrderState.awaiting_payment
    assert session.scalars(select(OrderEvent)).all() == []

"""A redemption is held when the order is placed, redeemed when it completes, and given back
when the order expires unpaid or is refunded (once)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.promotion.conftest import (
    complete,
    counters,
    create_promotion,
    expire_unpaid,
    pay,
    place,
    redemptions,
)
from tests.support_console.conftest import Recorded, staff
from tests.support_console.conftest import audited as audited  # the fixture
from tulpar import clock
from tulpar.errors import TulparError
from tulpar.fulfilment import refunds, support_actions
from tulpar.models import Card, DiscountKind, OrderState, PromotionRedemption
from tulpar.order import service as order_service
from tulpar.payment import refunds as payment_refunds
from tulpar.promotion import service as promotion_service
from tulpar.promotion import tasks


def _card(session: Session) -> Card:
    plan = create_plan(session, code="P")
    return create_active_card(session, plan=plan, days_ago=5)[0]


def test_an_unpaid_order_that_expires_gives_its_redemption_back(session: Session) -> None:
    promotion = create_promotion(session, code="ONE", total_limit=1)
    card = _card(session)
    order = place(session, card, "P", promo_code="ONE").order
    assert counters(session, promotion.id) == (1, 350_00)

    assert expire_unpaid(session) == 1
    assert promotion_service.release_lapsed(session, now=clock.now()) == 1
    assert promotion_service.release_lapsed(session, now=clock.now()) == 0  # once

    assert order_service.get(session, order.id).state is OrderState.expired
    assert redemptions(session, promotion.id) == [(order.id, "released", 350_00)]
    assert counters(session, promotion.id) == (0, 0)
    released_at = session.scalars(
        select(PromotionRedemption.released_at).where(PromotionRedemption.order_id == order.id)
    ).one()
    assert released_at is not None


def test_the_next_order_finds_an_expired_orders_redemption_given_back_without_the_sweep(
    session: Session,
) -> None:
    promotion = create_promotion(session, code="ONE", total_limit=1)
    card = _card(session)
    first = place(session, card, "P", promo_code="ONE").order
    with pytest.raises(TulparError) as refused:
        place(session, card, "P", promo_code="ONE")
    assert refused.value.code == "promo_code_used_up"

    expire_unpaid(session)
    second = place(session, card, "P", promo_code="ONE").order

    assert second.promotion_id == promotion.id
    assert redemptions(session, promotion.id) == [
        (first.id, "released", 350_00),
        (second.id, "held", 350_00),
    ]
    assert counters(session, promotion.id) == (1, 350_00)


def test_a_cancelled_unpaid_order_gives_its_redemption_back(
    session: Session, audited: list[Recorded]
) -> None:
    promotion = create_promotion(session, code="ONE", total_limit=1)
    order = place(session, _card(session), "P", promo_code="ONE").order

    support_actions.cancel(session, staff("support"), order.id, reason="asked by phone")

    assert redemptions(session, promotion.id) == [(order.id, "released", 350_00)]
    assert counters(session, promotion.id) == (0, 0)


def test_completing_redeems_and_a_refund_gives_it_back_once(
    session: Session, audited: list[Recorded]
) -> None:
    promotion = create_promotion(
        session, code="FIX", effect_kind=DiscountKind.fixed, effect_value=500_00
    )
    placed = place(session, _card(session), "P", promo_code="FIX")
    order = complete(session, placed)
    assert order.state is OrderState.completed
    assert redemptions(session, promotion.id) == [(order.id, "redeemed", 500_00)]
    assert counters(session, promotion.id) == (1, 500_00)

    requested = support_actions.refund(
        session, staff("support"), order.id, amount_minor=None, reason="traveller asked"
    )
    assert requested.amount.amount_minor == 3_000_00  # what was paid, after the discount
    report = payment_refunds.record_refund(
        session,
        requested.refund_id,
        succeeded=True,
        reference=f"re_{requested.refund_id}",
        failure_message=None,
    )
    assert report is not None
    refunds.on_refund(session, report)
    refunds.on_refund(session, report)  # the same news again

    assert order_service.get(session, order.id).state is OrderState.refunded
    assert redemptions(session, promotion.id) == [(order.id, "released", 500_00)]
    assert counters(session, promotion.id) == (0, 0)
    assert promotion_service.release_lapsed(session, now=clock.now()) == 0


def test_a_late_payment_after_expiry_takes_the_redemption_again(session: Session) -> None:
    promotion = create_promotion(session, code="ONE", total_limit=1)
    placed = place(session, _card(session), "P", promo_code="ONE")
    expire_unpaid(session)
    promotion_service.release_lapsed(session, now=clock.now())
    assert counters(session, promotion.id) == (0, 0)

    # The payer paid the promoted price after all: the order is honoured at that price.
    order = complete(session, placed)

    assert (order.state, order.amount_minor) == (OrderState.completed, 3_150_00)
    assert redemptions(session, promotion.id) == [(order.id, "redeemed", 350_00)]
    assert counters(session, promotion.id) == (1, 350_00)


def test_an_order_without_a_promotion_has_nothing_to_give_back(session: Session) -> None:
    placed = place(session, _card(session), "P")
    pay(session, placed)
    assert promotion_service.release(session, placed.order.id) is False
    assert promotion_service.redeem(session, placed.order.id) is False


def test_the_minutely_job_gives_back_what_expired_orders_held(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        promotion = create_promotion(session, code="ONE", total_limit=1)
        order_id = place(session, _card(session), "P", promo_code="ONE").order.id
        session.commit()
        assert expire_unpaid(session) == 1
        session.commit()

    tasks.release_lapsed(timestamp=0)
    tasks.release_lapsed(timestamp=0)  # nothing left the second time

    with committed() as session:
        assert redemptions(session, promotion.id) == [(order_id, "released", 350_00)]
        assert counters(session, promotion.id) == (0, 0)

"""Limits hold under concurrency: 50 orders placed at once, each on its own connection with
real commits, for a promotion with 10 redemptions left get exactly 10."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from tests.fixtures.factories import create_active_card, create_plan
from tests.promotion.conftest import counters, create_promotion, place
from tulpar.errors import TulparError
from tulpar.models import Card, Order, PromotionRedemption

PARALLEL = 50
LEFT = 10


@pytest.fixture
def connections(committed: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    """Sessions that each open a connection of their own (no pool to queue behind)."""
    engine = create_engine(committed.kw["bind"].url, poolclass=NullPool)
    try:
        yield sessionmaker(bind=engine, expire_on_commit=False)
    finally:
        engine.dispose()


def _seed(
    factory: sessionmaker[Session], *, cards: int, **promotion: object
) -> tuple[list[int], int]:
    with factory() as session:
        plan = create_plan(session, code="P")
        card_ids = [create_active_card(session, plan=plan)[0].id for _ in range(cards)]
        created = create_promotion(session, **promotion)
        session.commit()
        return card_ids, created.id


def _place_at_once(
    factory: sessionmaker[Session], card_ids: list[int], *, code: str | None
) -> list[str]:
    """Each card's traveller places one order, all released by one barrier; returns each
    outcome: ``placed`` or the refusal's code."""
    start = Barrier(len(card_ids))

    def one(card_id: int) -> str:
        with factory() as session:
            card = session.get_one(Card, card_id)
            start.wait()
            try:
                place(session, card, "P", promo_code=code)
            except TulparError as refused:
                session.rollback()
                return refused.code
            session.commit()
            return "placed"

    with ThreadPoolExecutor(len(card_ids)) as pool:
        return list(pool.map(one, card_ids))


def _redeemed(factory: sessionmaker[Session], promotion_id: int) -> tuple[int, int, int]:
    """(redemptions held, orders with the promotion, all orders)."""
    with factory() as session:
        held = session.scalar(
            select(func.count()).where(PromotionRedemption.promotion_id == promotion_id)
        )
        promoted = session.scalar(select(func.count()).where(Order.promotion_id == promotion_id))
        orders = session.scalar(select(func.count()).select_from(Order))
        return int(held or 0), int(promoted or 0), int(orders or 0)


def test_fifty_parallel_orders_with_a_code_ten_left_redeem_exactly_ten(
    connections: sessionmaker[Session],
) -> None:
    card_ids, promotion_id = _seed(
        connections, cards=PARALLEL, code="TEN", total_limit=30, redeemed_count=30 - LEFT
    )

    outcomes = _place_at_once(connections, card_ids, code="ten")

    assert Counter(outcomes) == {"placed": LEFT, "promo_code_used_up": PARALLEL - LEFT}
    assert _redeemed(connections, promotion_id) == (LEFT, LEFT, LEFT)
    with connections() as session:
        assert counters(session, promotion_id) == (30, LEFT * 350_00)


def test_fifty_parallel_orders_for_an_automatic_promotion_ten_get_it_all_are_placed(
    connections: sessionmaker[Session],
) -> None:
    card_ids, promotion_id = _seed(connections, cards=PARALLEL, total_limit=LEFT)

    outcomes = _place_at_once(connections, card_ids, code=None)

    assert outcomes == ["placed"] * PARALLEL
    assert _redeemed(connections, promotion_id) == (LEFT, LEFT, PARALLEL)
    with connections() as session:
        assert counters(session, promotion_id) == (LEFT, LEFT * 350_00)


def test_a_budget_holds_under_concurrency(connections: sessionmaker[Session]) -> None:
    # 350 KZT off each, 3,600 KZT of budget: room for 10 discounts, not 11.
    card_ids, promotion_id = _seed(connections, cards=20, budget_minor=3_600_00)

    outcomes = _place_at_once(connections, card_ids, code=None)

    assert outcomes == ["placed"] * 20
    assert _redeemed(connections, promotion_id) == (10, 10, 20)
    with connections() as session:
        assert counters(session, promotion_id) == (10, 3_500_00)


def test_ten_parallel_orders_of_one_card_get_a_once_per_card_promotion_once(
    connections: sessionmaker[Session],
) -> None:
    (card_id,), promotion_id = _seed(connections, cards=1, per_card_limit=1)

    outcomes = _place_at_once(connections, [card_id] * 10, code=None)

    assert outcomes == ["placed"] * 10
    assert _redeemed(connections, promotion_id) == (1, 1, 10)

"""Which promotion an order gets: conditions, the best for the traveller, frozen on the order
with its redemption held; a code that cannot be used says why and leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.promotion.conftest import (
    complete,
    counters,
    create_promotion,
    order_count,
    place,
    redemptions,
)
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.errors import TulparError
from tulpar.fulfilment import checkout
from tulpar.kit.format import GB
from tulpar.models import (
    Card,
    DiscountKind,
    OrderKind,
    Payment,
    PaymentProviderName,
    Plan,
    PromotionRedemption,
)


@pytest.fixture
def plan(session: Session) -> Plan:
    return create_plan(session, code="KZ-7D", validity_days=7, data_bytes=5 * GB)


def expiring_card(session: Session, plan: Plan, *, days_left: float = 2) -> Card:
    card, _ = create_active_card(session, plan=plan, days_ago=plan.validity_days - days_left)
    return card


def _refused(session: Session, card: Card, plan: str, **options: object) -> TulparError:
    before = (order_count(session), _rows(session, Payment), _rows(session, PromotionRedemption))
    with pytest.raises(TulparError) as refused:
        place(session, card, plan, **options)
    assert (
        order_count(session),
        _rows(session, Payment),
        _rows(session, PromotionRedemption),
    ) == before
    return refused.value


def _rows(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestConditions:
    def test_early_renewal_with_bonus_data_is_applied_and_frozen_with_a_held_redemption(
        self, session: Session, plan: Plan
    ) -> None:
        promotion = create_promotion(
            session,
            effect_kind=DiscountKind.none,
            bonus_data_bytes=1 * GB,
            bonus_days=2,
            early_renewal_days=3,
        )
        card = expiring_card(session, plan, days_left=2)

        order = place(session, card, "KZ-7D").order

        assert (order.promotion_id, order.list_amount_minor, order.amount_minor) == (
            promotion.id,
            3_500_00,
            3_500_00,
        )
        assert (order.discount_minor, order.bonus_data_bytes, order.bonus_days) == (0, GB, 2)
        assert redemptions(session, promotion.id) == [(order.id, "held", 0)]
        assert counters(session, promotion.id) == (1, 0)

    def test_a_card_far_from_its_end_is_not_renewing_early(
        self, session: Session, plan: Plan
    ) -> None:
        promotion = create_promotion(session, early_renewal_days=3)
        card = expiring_card(session, plan, days_left=5)

        order = place(session, card, "KZ-7D").order

        assert (order.promotion_id, order.amount_minor, order.discount_minor) == (None, 3_500_00, 0)
        assert redemptions(session, promotion.id) == []

    def test_first_purchase_only_until_the_card_has_bought_a_renewal(
        self, session: Session, plan: Plan
    ) -> None:
        promotion = create_promotion(session, first_purchase=True, effect_value=20)
        card = expiring_card(session, plan)

        first = complete(session, place(session, card, "KZ-7D"))
        second = place(session, card, "KZ-7D").order

        assert (first.promotion_id, first.amount_minor) == (promotion.id, 2_800_00)
        assert (second.promotion_id, second.amount_minor) == (None, 3_500_00)

    def test_plans_channels_and_window_are_conditions(self, session: Session, plan: Plan) -> None:
        create_plan(session, code="KZ-30D")
        now = clock.now()
        create_promotion(session, plan_codes=["KZ-30D"], effect_value=50)
        create_promotion(session, channels=["ussd"], effect_value=40)
        create_promotion(session, starts_at=now + timedelta(days=1), effect_value=30)
        create_promotion(session, ends_at=now - timedelta(seconds=1), effect_value=30)
        create_promotion(session, active=False, effect_value=30)
        wanted = create_promotion(session, effect_value=5)
        card = expiring_card(session, plan)

        order = place(session, card, "KZ-7D").order

        assert (order.promotion_id, order.discount_minor) == (wanted.id, 175_00)

    def test_a_promotion_for_one_payment_method_needs_that_method(
        self, session: Session, plan: Plan
    ) -> None:
        create_promotion(session, code="WALLET20", payment_methods=["wallet"], effect_value=20)
        card = expiring_card(session, plan)

        refused = _refused(session, card, "KZ-7D", promo_code="wallet20")

        assert refused.code == "promo_code_not_applicable"
        assert refused.extra == {"reason": "payment_method"}


class TestTheBestForTheTraveller:
    def test_a_code_giving_more_than_the_automatic_promotion_wins(
        self, session: Session, plan: Plan
    ) -> None:
        create_promotion(session, effect_value=10)  # 350 KZT
        coded = create_promotion(
            session, code="minus500", effect_kind=DiscountKind.fixed, effect_value=500_00
        )
        card = expiring_card(session, plan)

        order = place(session, card, "KZ-7D", promo_code=" Minus500 ").order

        assert (order.promotion_id, order.amount_minor, order.promo_code) == (
            coded.id,
            3_000_00,
            " Minus500 ",
        )

    def test_an_automatic_promotion_giving_more_wins_over_the_typed_code(
        self, session: Session, plan: Plan
    ) -> None:
        automatic = create_promotion(session, effect_value=20)  # 700 KZT
        coded = create_promotion(
            session, code="MINUS500", effect_kind=DiscountKind.fixed, effect_value=500_00
        )
        card = expiring_card(session, plan)

        order = place(session, card, "KZ-7D", promo_code="MINUS500").order

        assert (order.promotion_id, order.amount_minor) == (automatic.id, 2_800_00)
        assert redemptions(session, coded.id) == []

    def test_bonus_data_and_days_are_worth_the_plans_price_per_byte_and_per_day(
        self, session: Session, plan: Plan
    ) -> None:
        create_promotion(session, effect_value=10)  # 350 KZT off
        more_data = create_promotion(
            session, effect_kind=DiscountKind.none, bonus_data_bytes=1 * GB
        )  # 1/5 of the plan's data: worth 700 KZT
        create_promotion(session, effect_kind=DiscountKind.none, bonus_days=1)  # 500 KZT
        card = expiring_card(session, plan)

        order = place(session, card, "KZ-7D").order

        assert (order.promotion_id, order.bonus_data_bytes, order.amount_minor) == (
            more_data.id,
            GB,
            3_500_00,
        )

    def test_money_off_never_makes_the_order_free(self, session: Session, plan: Plan) -> None:
        create_promotion(session, effect_kind=DiscountKind.fixed, effect_value=10_000_00)
        card = expiring_card(session, plan)

        order = place(session, card, "KZ-7D").order

        assert (order.amount_minor, order.discount_minor) == (1, 3_499_99)


class TestRefusedCodes:
    def test_an_unknown_code(self, session: Session, plan: Plan) -> None:
        card = expiring_card(session, plan)
        refused = _refused(session, card, "KZ-7D", promo_code="NOPE")
        assert (refused.code, refused.status) == ("promo_code_unknown", 422)

    def test_an_expired_or_deactivated_code(self, session: Session, plan: Plan) -> None:
        create_promotion(session, code="OLD", ends_at=clock.now() - timedelta(minutes=1))
        create_promotion(session, code="OFF", active=False)
        card = expiring_card(session, plan)
        assert _refused(session, card, "KZ-7D", promo_code="old").code == "promo_code_expired"
        assert _refused(session, card, "KZ-7D", promo_code="OFF").code == "promo_code_expired"

    def test_a_used_up_code_by_total_budget_or_card(self, session: Session, plan: Plan) -> None:
        create_promotion(session, code="TOTAL", total_limit=3, redeemed_count=3)
        create_promotion(
            session,
            code="BUDGET",
            effect_kind=DiscountKind.fixed,
            effect_value=500_00,
            budget_minor=1_200_00,
            spent_minor=800_00,
        )
        once = create_promotion(session, code="ONCE", per_card_limit=1)
        card = expiring_card(session, plan)
        place(session, card, "KZ-7D", promo_code="ONCE")

        for code, limit in (("TOTAL", "total"), ("BUDGET", "budget"), ("ONCE", "per_card")):
            refused = _refused(session, card, "KZ-7D", promo_code=code)
            assert (refused.code, refused.extra) == ("promo_code_used_up", {"limit": limit})
        assert len(redemptions(session, once.id)) == 1

    def test_a_code_for_another_plan_or_channel_does_not_apply(
        self, session: Session, plan: Plan
    ) -> None:
        create_promotion(session, code="THIRTY", plan_codes=["KZ-30D"])
        create_promotion(session, code="DIAL", channels=["ussd"])
        create_promotion(session, code="EARLY", early_renewal_days=1)
        card = expiring_card(session, plan, days_left=2)

        for code, reason in (("THIRTY", "plan"), ("DIAL", "channel"), ("EARLY", "early_renewal")):
            refused = _refused(session, card, "KZ-7D", promo_code=code)
            assert (refused.code, refused.extra) == (
                "promo_code_not_applicable",
                {"reason": reason},
            )

    def test_a_top_up_takes_no_code(self, session: Session, plan: Plan) -> None:
        create_promotion(session, code="ANY")
        card = expiring_card(session, plan)
        with pytest.raises(TulparError) as refused:
            checkout.place(
                session,
                auth_service.traveller(card.id),
                checkout.OrderRequest(
                    card=card.iccid,
                    kind=OrderKind.wallet_topup,
                    plan=None,
                    amount_minor=1_000_00,
                    currency="KZT",
                    payment_provider=PaymentProviderName.sandbox,
                    promo_code="ANY",
                ),
            )
        assert refused.value.code == "promo_code_not_applicable"
        assert order_count(session) == 0

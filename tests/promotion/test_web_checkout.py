"""The traveller's checkout page: the automatic promotion shown on the quote, a code field
that applies a code or says (in the traveller's language) why it cannot be used, and the
order placed at the promoted price."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.promotion.conftest import create_promotion, order_count
from tests.web_pages.conftest import hidden_fields, sign_in
from tests.web_pages.conftest import pages as pages  # the fixture
from tulpar.kit.format import GB
from tulpar.models import Card, Channel, DiscountKind, Order


def _card(session: Session, *, language: str = "zh-Hans") -> Card:
    plan = create_plan(session, code="WEB-7D", validity_days=7, channels=(Channel.web,))
    return create_active_card(session, plan=plan, days_ago=5, language=language)[0]


def test_the_summary_shows_the_automatic_promotion_and_the_order_gets_it(
    pages: TestClient, session: Session
) -> None:
    create_promotion(
        session,
        effect_kind=DiscountKind.none,
        bonus_data_bytes=2 * GB,
        early_renewal_days=3,
    )
    card = _card(session)
    sign_in(pages, session, card)

    summary = pages.get("/plans/WEB-7D")

    assert summary.status_code == 200
    assert "早鸟续费" in summary.text
    assert '<dd class="bonus-data">+2 GB</dd>' in summary.text
    placed = pages.post("/orders", data=hidden_fields(summary.text, "/orders"))
    assert placed.status_code == 303
    order = session.scalars(select(Order)).one()
    assert (order.bonus_data_bytes, order.amount_minor) == (2 * GB, 3_500_00)


def test_a_typed_code_is_applied_and_carried_to_the_order(
    pages: TestClient, session: Session
) -> None:
    create_promotion(session, code="SAVE20", effect_kind=DiscountKind.percent, effect_value=20)
    card = _card(session, language="en")
    sign_in(pages, session, card)
    pages.headers["Accept-Language"] = "en"

    summary = pages.get("/plans/WEB-7D", params={"promo_code": "save20"})

    assert '<dd class="discount">−700 KZT</dd>' in summary.text
    assert "Pay 2,800 KZT" in summary.text
    fields = hidden_fields(summary.text, "/orders")
    assert fields["promo_code"] == "save20"
    assert pages.post("/orders", data=fields).status_code == 303
    order = session.scalars(select(Order)).one()
    assert (order.amount_minor, order.discount_minor, order.list_amount_minor) == (
        2_800_00,
        700_00,
        3_500_00,
    )


def test_a_bad_code_says_why_in_the_travellers_language_and_nothing_is_placed(
    pages: TestClient, session: Session
) -> None:
    create_promotion(session, code="GONE", total_limit=1, redeemed_count=1)
    card = _card(session, language="ru")
    sign_in(pages, session, card)
    pages.headers["Accept-Language"] = "ru"

    unknown = pages.get("/plans/WEB-7D", params={"promo_code": "NOPE"})
    used_up = pages.get("/plans/WEB-7D", params={"promo_code": "gone"})

    assert "Такого промокода нет. Проверьте его и попробуйте снова." in unknown.text
    assert "Промокод уже использован до конца." in used_up.text
    assert "promo_code" not in hidden_fields(used_up.text, "/orders")
    assert "Оплатить 3\xa0500 KZT" in used_up.text
    assert order_count(session) == 0


def test_a_code_used_up_between_the_summary_and_paying_is_refused_on_an_error_page(
    pages: TestClient, session: Session
) -> None:
    promotion = create_promotion(session, code="LAST", total_limit=1)
    card = _card(session, language="en")
    sign_in(pages, session, card)
    pages.headers["Accept-Language"] = "en"
    summary = pages.get("/plans/WEB-7D", params={"promo_code": "LAST"})
    promotion.redeemed_count = 1
    session.flush()

    refused = pages.post("/orders", data=hidden_fields(summary.text, "/orders"))

    assert refused.status_code == 422
    assert "This promotion code has been used up." in refused.text
    assert order_count(session) == 0

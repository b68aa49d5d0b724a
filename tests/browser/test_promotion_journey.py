"""A promotion from the back office to the traveller, in Debian's Chromium (Playwright): an
admin signs in with a password and a TOTP code and creates an automatic early-renewal
promotion with 1 GB of bonus data; a Chinese traveller whose plan ends in two days then
renews on the web, the checkout shows the promotion, the receipt and the confirmation SMS
tell it, and the renewal's one bundle holds the bonus."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import Tab, Worker, create_admin, sign_in, staff_signs_in
from tests.fixtures.factories import create_active_card, create_plan
from tulpar.kit.format import GB
from tulpar.models import Bundle, BundleState, Card, Channel, Order, OrderState, Promotion


def _seed(factory: sessionmaker[Session]) -> tuple[int, str, str]:
    """A web plan, a card two days from the end of its week, and an admin (TOTP)."""
    with factory() as session:
        create_plan(
            session, code="WEB-15D", validity_days=15, data_bytes=10 * GB, channels=(Channel.web,)
        )
        week = create_plan(session, validity_days=7, channels=(Channel.web,))
        card, _ = create_active_card(
            session, plan=week, language="zh-Hans", msisdn="+77017770301", days_ago=5
        )
        secret = create_admin(session, "dana")
        session.commit()
        return card.id, "dana", secret


def _admin_creates_the_promotion(tab: Tab) -> None:
    tab.open("/backoffice/promotions/new")
    page = tab.page
    page.fill("#name_zh_hans", "早鸟续费")
    page.fill("#name_ru", "Ранняя пташка")
    page.fill("#name_kk", "Ерте жаңарту")
    page.fill("#name_en", "Early bird")
    page.check("input[name=automatic]")
    page.fill("#early_renewal_days", "3")
    page.select_option("#effect_kind", "none")
    page.fill("#bonus_data_mb", "1024")
    page.fill("#total_limit", "100")
    tab.check("backoffice-promotion-form")
    page.click("[data-test=save]")
    page.wait_for_url("**/backoffice/promotions?saved=*")
    row = page.inner_text("table.promotions tbody tr")
    assert "Early bird" in row
    assert "+1 GB" in row
    assert "0 / 100" in row


def test_an_admin_creates_an_early_renewal_bonus_and_the_traveller_renews_with_it(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session], worker: Worker
) -> None:
    card_id, username, secret = _seed(committed)

    admin = new_tab("en-US")
    staff_signs_in(admin, "/backoffice/promotions", username, secret)
    _admin_creates_the_promotion(admin)
    with committed() as session:
        promotion = session.scalars(select(Promotion)).one()
        assert (promotion.automatic, promotion.early_renewal_days) == (True, 3)
        assert promotion.bonus_data_bytes == GB

    traveller = new_tab("zh-CN")
    with committed() as session:
        sign_in(traveller, session, session.get_one(Card, card_id))
    traveller.open("/plans/WEB-15D")
    summary = traveller.page.inner_text("section.summary")
    assert "早鸟续费" in summary
    assert "+1 GB" in summary
    traveller.check("checkout-with-promotion")
    traveller.page.click("form[action='/orders'] button[type=submit]")
    traveller.page.wait_for_url("**/pay/sandbox/**")
    traveller.page.click("button[value=pay]")
    traveller.page.click("a.back")
    traveller.page.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_url = traveller.page.url
    traveller.page.wait_for_selector("[data-state='completed']", timeout=45_000)

    traveller.page.goto(order_url + "/receipt")
    receipt = traveller.page.inner_text("body")
    assert "优惠活动：早鸟续费" in receipt
    assert "赠送流量 1 GB" in receipt
    traveller.open("/dev/outbox")
    assert "优惠活动「早鸟续费」：赠送流量1 GB。" in traveller.page.inner_text("body")

    with committed() as session:
        order = session.scalars(select(Order)).one()
        assert (order.state, order.promotion_id, order.bonus_data_bytes) == (
            OrderState.completed,
            promotion.id,
            GB,
        )
        bundles = session.scalars(
            select(Bundle).where(Bundle.card_id == card_id, Bundle.state == BundleState.active)
        ).all()
        assert [(b.order_id, b.data_bytes_granted) for b in bundles] == [(order.id, 11 * GB)]
    admin.open("/backoffice/promotions")
    assert "1 / 100" in admin.page.inner_text("table.promotions tbody tr")

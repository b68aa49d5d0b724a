"""A price change in the back office, in Debian's Chromium (Playwright): a traveller places
an order for a plan at 3,500 KZT; an admin then signs in with a password and a TOTP code and
reprices the plan to 3,900 KZT on its edit page, and sees the change in its history. The
order already placed still costs 3,500: its payment page, its order page and the receipt
after paying say so, and only a new quote shows 3,900."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import Tab, Worker, create_admin, sign_in, staff_signs_in
from tests.fixtures.factories import create_active_card, create_plan
from tulpar.kit.format import formatter_for
from tulpar.models import Card, Channel, Order, OrderState, Plan, PlanPrice

OLD_PRICE = formatter_for("en").money(3_500_00, "KZT")
NEW_PRICE = formatter_for("en").money(3_900_00, "KZT")
YUAN = formatter_for("en").money(52_00, "CNY")  # left as it was


def _seed(factory: sessionmaker[Session]) -> tuple[int, str, str]:
    """A web plan at 3,500 KZT, an English traveller's card near the end of its week, and
    an admin (TOTP)."""
    with factory() as session:
        create_plan(
            session,
            code="WEB-15D",
            validity_days=15,
            channels=(Channel.web,),
            prices_minor={"KZT": 3_500_00, "CNY": 52_00},
        )
        week = create_plan(session, validity_days=7, channels=(Channel.web,))
        card, _ = create_active_card(
            session, plan=week, language="en", msisdn="+77017770401", days_ago=5
        )
        secret = create_admin(session, "aigerim")
        session.commit()
        return card.id, "aigerim", secret


def _traveller_places_an_order(tab: Tab) -> str:
    """Checkout at the old price, up to the payment page (not paid yet); its URL."""
    tab.open("/plans/WEB-15D")
    assert f"Pay {OLD_PRICE}" in tab.page.inner_text("form[action='/orders']")
    tab.page.click("form[action='/orders'] button[type=submit]")
    tab.page.wait_for_url("**/pay/sandbox/**")
    assert OLD_PRICE.replace("\xa0", " ") in tab.page.inner_text("h1").replace("\xa0", " ")
    return tab.page.url


def _admin_reprices_the_plan(tab: Tab) -> None:
    tab.open("/backoffice/catalog")
    row = tab.page.inner_text("li[data-plan='WEB-15D']")
    assert OLD_PRICE in row
    assert "Sold" in row  # the order placed names it
    tab.page.click("li[data-plan='WEB-15D'] h2 a")
    tab.page.wait_for_url("**/backoffice/catalog/WEB-15D")
    assert tab.page.locator("[data-test=delete]").count() == 0  # sold: retire, never delete
    tab.page.click("[data-test=edit]")
    tab.page.wait_for_url("**/backoffice/catalog/WEB-15D/edit")
    assert tab.page.input_value("#price_kzt") == "3500"
    tab.page.fill("#price_kzt", "3900 tenge")  # a slip first: the form comes back
    tab.page.click("[data-test=save]")
    problem = tab.page.locator("[data-error='prices.KZT']")
    assert problem.inner_text() == "Give an amount like 3500 or 52.50"
    assert tab.page.get_attribute("#price_kzt", "aria-describedby") == "error-prices-KZT"
    assert tab.page.input_value("#price_kzt") == "3900 tenge"
    # The browser logs the form's 422 answer as a console error: that one is expected.
    assert [error for error in tab.errors if "422" not in error] == []
    tab.errors.clear()
    tab.check("backoffice-catalog-plan-form-refused")
    tab.page.fill("#price_kzt", "3900")
    tab.check("backoffice-catalog-plan-form")
    tab.page.click("[data-test=save]")
    tab.page.wait_for_url("**/backoffice/catalog/WEB-15D?saved=1")
    assert NEW_PRICE in tab.page.inner_text("[data-test=prices]")
    change = tab.page.locator("li[data-action='catalog.plan_price_change'] li[data-key=prices]")
    assert change.locator(".before").inner_text() == f"{OLD_PRICE}, {YUAN}"
    assert change.locator(".after").inner_text() == f"{NEW_PRICE}, {YUAN}"
    tab.check("backoffice-catalog-plan-page")


def test_an_admin_reprices_a_plan_and_the_order_already_placed_keeps_its_price(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session], worker: Worker
) -> None:
    card_id, username, secret = _seed(committed)
    traveller = new_tab("en-GB")
    with committed() as session:
        sign_in(traveller, session, session.get_one(Card, card_id))
    payment_page = _traveller_places_an_order(traveller)

    admin = new_tab("en-US")
    staff_signs_in(admin, "/backoffice/catalog", username, secret)
    _admin_reprices_the_plan(admin)
    with committed() as session:
        plan_id = session.scalars(select(Plan.id).where(Plan.code == "WEB-15D")).one()
        prices = session.execute(
            select(PlanPrice.currency, PlanPrice.amount_minor).where(PlanPrice.plan_id == plan_id)
        )
        assert {str(currency): int(amount) for currency, amount in prices} == {
            "KZT": 3_900_00,
            "CNY": 52_00,
        }

    # The order placed before the change is paid after it, at its own price.
    traveller.page.goto(payment_page)
    assert OLD_PRICE.replace("\xa0", " ") in traveller.page.inner_text("h1").replace("\xa0", " ")
    traveller.page.click("button[value=pay]")
    traveller.page.click("a.back")
    traveller.page.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_url = traveller.page.url
    traveller.page.wait_for_selector("[data-state='completed']", timeout=45_000)
    assert OLD_PRICE in traveller.page.inner_text("main")
    assert NEW_PRICE not in traveller.page.inner_text("main")
    traveller.page.goto(order_url + "/receipt")
    receipt = traveller.page.inner_text("body")
    assert OLD_PRICE in receipt
    assert NEW_PRICE not in receipt

    # A new quote is at the new price.
    traveller.open("/plans/WEB-15D")
    assert f"Pay {NEW_PRICE}" in traveller.page.inner_text("form[action='/orders']")

    with committed() as session:
        order = session.scalars(select(Order)).one()
        assert (order.state, order.amount_minor, order.currency) == (
            OrderState.completed,
            3_500_00,
            "KZT",
        )

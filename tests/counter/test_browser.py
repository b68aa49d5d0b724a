"""The store console in Debian's Chromium (Playwright): a clerk signs in, finds a card, sells
a 15-day renewal for cash, prints the 80 mm receipt with its fiscal sign, and closes the day
with the right total."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    Tab,
    Worker,
    browser,
    carrier,
    new_tab,
    site,
    worker,
)
from tests.counter.conftest import PASSWORD, Counter
from tulpar.models import FiscalRegistration, FiscalState, Order, OrderState


def digits(text: str) -> str:
    """3 500 KZT, 3,500 KZT, 3 500,00 ₸ → 3500 (the money format is the reader's language's)."""
    return "".join(ch for ch in text.split(",00")[0].split(".00")[0] if ch.isdigit())


def test_clerk_sells_a_15_day_renewal_for_cash_and_closes_the_day(
    committed: sessionmaker[Session],
    committed_counter: Counter,
    new_tab: Callable[..., Tab],  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    scene = committed_counter
    tab = new_tab(locale="ru-RU")
    page = tab.page
    tab.open("/store")
    page.wait_for_url("**/staff/sign-in")
    page.fill("#username", scene.clerk.username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: not url.endswith("/staff/sign-in"))

    tab.open("/store")
    page.fill("#q", scene.card.iccid)
    page.press("#q", "Enter")
    page.wait_for_url(f"**/store/cards/{scene.card.id}")
    assert scene.plan.code in page.inner_text("form[data-test=sell-renewal]")
    page.check(f"input[name=plan][value='{scene.plan.code}']")
    page.check("form[data-test=sell-renewal] input[name=method][value=cash]")
    page.click("form[data-test=sell-renewal] button[data-test=sell]")
    page.wait_for_url("**/store/receipts/*")

    receipt = page.locator("[data-test=thermal-receipt]")
    number = page.inner_text("[data-test=receipt-number]")
    assert number == f"{scene.store.receipt_issuer}-000001"
    sign = page.inner_text("[data-test=fiscal-sign]")
    assert len(sign) == 13
    assert sign.isdigit()
    assert digits(page.inner_text("[data-test=total]")) == "3500"
    assert scene.store.legal_name in receipt.inner_text()
    assert receipt.locator("svg").count() == 1  # the verification QR
    # Print: the button calls window.print(); the print layout is 80 mm wide, console hidden.
    page.evaluate("window.print = () => { window.printed = true; }")
    page.click("button[data-print]")
    assert page.evaluate("window.printed") is True
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    width_mm = (
        page.evaluate(
            "document.querySelector('[data-test=thermal-receipt]').getBoundingClientRect().width"
        )
        * 25.4
        / 96
    )
    assert 70 <= width_mm <= 80
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")

    tab.open("/store/day")
    assert digits(page.inner_text("[data-test=expected-cash]")) == "3500"
    assert number in page.inner_text("ul.receipts")
    page.click("button[data-test=close-day]")
    page.wait_for_url("**/store/day?date=*")
    assert page.inner_text("[data-test=day-state]") in ("закрыт", "closed")
    assert digits(page.inner_text("[data-test=expected-cash]")) == "3500"
    assert tab.errors == []

    with committed() as session:
        registration = session.scalars(select(FiscalRegistration)).one()
        assert registration.state is FiscalState.registered
        assert registration.fiscal_sign == sign
        order = session.scalars(select(Order)).one()
        assert order.channel.value == "store"
        assert order.state in (OrderState.provisioning, OrderState.paid, OrderState.completed)

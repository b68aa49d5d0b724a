"""Every main traveller page in every language, in Chromium at 360 px: a screenshot under
``artifacts/screenshots``, nothing overflowing sideways, no serious or critical axe-core
violation, and no console error (so the CSP never blocks our own script or style)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import Tab
from tests.fixtures.factories import create_active_card, create_plan
from tests.web_pages.conftest import latest_code
from tulpar.auth import service as auth_service
from tulpar.fulfilment import checkout
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Channel, OrderKind, PaymentProviderName, Store
from tulpar.order.checkout import OrderRequest
from tulpar.receipt import service as receipt_service
from tulpar.receipt.service import ReceiptLine
from tulpar.support import service as support_service


def _a_card_with_history(factory: sessionmaker[Session]) -> tuple[int, int, int, str]:
    """A card near its end, with an open order, a receipt and a support request."""
    with factory() as session:
        week = create_plan(session, code="WEEK-7D", validity_days=7, channels=(Channel.web,))
        create_plan(session, code="KZ-30D-UNL", validity_days=30, data_bytes=None)
        card, _ = create_active_card(session, plan=week, days_ago=5.5, msisdn="+77017770201")
        caller = auth_service.traveller(card.id)
        placed = checkout.place(
            session,
            caller,
            OrderRequest(
                card=card.iccid,
                kind=OrderKind.plan_renewal,
                plan="WEEK-7D",
                amount_minor=None,
                currency="KZT",
                payment_provider=PaymentProviderName.sandbox,
                promo_code=None,
            ),
        )
        receipt_service.issue(
            session,
            issuer="WEB",
            card_id=card.id,
            order_id=placed.order.id,
            lines=[ReceiptLine.for_plan("WEEK-7D", week.names, "zh-Hans", unit_price_minor=1)],
            payment_method="sandbox",
            currency="KZT",
        )
        ticket = support_service.ask(
            session, caller, message="套餐什么时候生效？", order_id=placed.order.id
        )
        session.add(  # for /stores (the public list shows active stores)
            Store(
                code="ALA-01",
                name="Tulpar Dostyk",
                city="Almaty",
                address="Dostyk Ave 1",
                opening_hours="10:00–22:00",
                legal_name="Tulpar LLP",
                bin="123456789012",
            )
        )
        session.commit()
        return card.id, placed.order.id, ticket.id, card.iccid


def test_each_main_page_in_each_language_at_360_px(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session]
) -> None:
    card_id, order_id, ticket_id, iccid = _a_card_with_history(committed)
    tab = new_tab("zh-CN")
    tab.open("/")
    tab.check("zh-Hans-1-start")
    tab.page.fill("#card", iccid)
    tab.page.click("form[action='/code'] button[type=submit]")
    tab.page.wait_for_url("**/code")
    code_pages = {}
    for language in LANGUAGES:
        tab.open(f"/code?lang={language}")
        tab.check(f"{language}-2-code")
        code_pages[language] = tab.page.inner_text("h1")
    with committed() as session:
        code = latest_code(session, card_id)
    tab.page.fill("#code", code)
    tab.page.click("form[action='/code/verify'] button[type=submit]")
    tab.page.wait_for_url("**/card")

    pages = [
        ("start", "/"),
        ("card", "/card"),
        ("plans", "/plans"),
        ("checkout", "/plans/WEEK-7D"),
        ("order", f"/orders/{order_id}"),
        ("receipts", "/receipts"),
        ("help", f"/help?order={order_id}"),
        ("ticket", f"/help/tickets/{ticket_id}"),
        ("receipt", f"/orders/{order_id}/receipt"),
        ("stores", "/stores"),
    ]
    headings = set()
    for language in LANGUAGES:
        for number, (name, path) in enumerate(pages, start=3):
            separator = "&" if "?" in path else "?"
            answer = tab.open(f"{path}{separator}lang={language}")
            assert answer.status == 200, (language, path)
            assert tab.page.get_attribute("html", "lang") == language
            tab.check(f"{language}-{number}-{name}")
            headings.add(tab.page.inner_text("h1"))
    tab.open(f"/orders/{order_id}/receipt")
    tab.page.click("a[href*='/verify/']")
    tab.check("en-13-verify")
    assert "Genuine Tulpar receipt" in tab.page.inner_text("h2")  # English, remembered
    assert len(set(code_pages.values())) == len(LANGUAGES)
    # Every page has its own heading in each language (the receipt's is "Tulpar · …").
    assert len(headings) == len(LANGUAGES) * len(pages)

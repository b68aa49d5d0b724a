"""Travellers in real Chromium: the whole Chinese renewal (code read from the outbox, live
status, PDF download, verification), Russian up to payment, the Kazakh start and card
pages, a decline then paying again, five wrong codes, and another card's URLs."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import Tab, Worker, code_from_outbox, sign_in
from tests.fixtures.factories import create_active_card, create_plan
from tulpar.models import Channel

CODE_ZH = r"验证码：(\d{6})"


def _setup(factory: sessionmaker[Session], *, msisdn: str, language: str = "zh-Hans") -> None:
    with factory() as session:
        create_plan(session, code="WEB-15D", validity_days=15, channels=(Channel.web,))
        week = create_plan(session, validity_days=7, channels=(Channel.web,))
        create_active_card(session, plan=week, language=language, msisdn=msisdn, days_ago=5)
        session.commit()


def _verify_by_code(tab: Tab, number: str, pattern: str) -> None:
    tab.open("/")
    tab.page.fill("#card", number)
    tab.page.click("form[action='/code'] button[type=submit]")
    tab.page.wait_for_url("**/code")
    code_page_url = tab.page.url
    code = code_from_outbox(tab, pattern=pattern)
    tab.page.goto(code_page_url)
    tab.page.fill("#code", code)
    tab.page.click("form[action='/code/verify'] button[type=submit]")
    tab.page.wait_for_url("**/card")


def test_a_chinese_traveller_renews_and_keeps_the_receipt(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session], worker: Worker
) -> None:
    _setup(committed, msisdn="+77017770101")
    tab = new_tab("zh-CN")

    _verify_by_code(tab, "8 701 777-0101", CODE_ZH)
    assert "我的卡" in tab.page.inner_text("h1")
    assert "该续费了" in tab.page.inner_text("main")  # 2 days left of a 7-day plan
    tab.page.click("section.cta a.button")
    tab.page.wait_for_url("**/plans")
    assert "新的有效期至" in tab.page.inner_text("li[data-plan='WEB-15D']")
    tab.page.click("li[data-plan='WEB-15D'] a.button")
    tab.page.wait_for_url("**/plans/WEB-15D")
    tab.page.click("form[action='/orders'] button[type=submit]")
    tab.page.wait_for_url("**/pay/sandbox/**")
    tab.page.click("button[value=pay]")
    tab.page.click("a.back")
    tab.page.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_url = tab.page.url
    # The page follows the order by itself (scripts on): paid → applying → done.
    tab.page.wait_for_selector("[data-state='completed']", timeout=45_000)
    assert "完成！您的套餐已生效。" in tab.page.inner_text("#progress")
    with tab.page.expect_download() as download:
        tab.page.click("a[href$='/receipt.pdf']")
    pdf = download.value
    assert pdf.suggested_filename.startswith("WEB-")
    with open(pdf.path(), "rb") as saved:
        assert saved.read(5) == b"%PDF-"
    tab.page.goto(order_url + "/receipt")
    tab.page.click("a[href*='/verify/']")
    assert "Tulpar 正式收据" in tab.page.inner_text("body")
    tab.open("/dev/outbox")
    assert "有效期至" in tab.page.inner_text("body")  # the confirmation SMS, in Chinese
    # Nothing fetched from another host (the dev outbox page has no favicon: its 404 is fine).
    assert [error for error in tab.errors if "another host" in error] == []


def test_russian_up_to_payment_and_the_kazakh_start_and_card(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session], worker: Worker
) -> None:
    _setup(committed, msisdn="+77017770102", language="ru")
    russian = new_tab("ru-RU")

    _verify_by_code(russian, "+7 701 777 0102", r"код (\d{6})")
    assert "Моя карта" in russian.page.inner_text("h1")
    russian.open("/plans")
    russian.page.click("li[data-plan='WEB-15D'] a.button")
    assert "Оплатить 3\xa0500 KZT" in russian.page.inner_text("form[action='/orders']")
    russian.page.click("form[action='/orders'] button[type=submit]")
    russian.page.wait_for_url("**/pay/sandbox/**")
    assert "3,500 KZT" in russian.page.inner_text("h1")  # the sandbox page is bilingual

    kazakh = new_tab("zh-CN")
    kazakh.open("/")
    kazakh.page.click("nav.langs a[hreflang='kk']")
    assert "eSIM тексеру және ұзарту" in kazakh.page.inner_text("h1")
    with committed() as session:
        card, _ = create_active_card(session, language="kk", msisdn="+77017770103")
        session.commit()
        sign_in(kazakh, session, card)
    kazakh.open("/card")  # the choice is remembered
    assert "Менің картам" in kazakh.page.inner_text("h1")
    assert "Белсенді" in kazakh.page.inner_text("main")


def test_a_declined_payment_is_paid_again_from_the_page(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session], worker: Worker
) -> None:
    _setup(committed, msisdn="+77017770104")
    tab = new_tab("en-GB")
    with committed() as session:
        from tulpar.card import service as card_service

        sign_in(tab, session, card_service.find(session, "+77017770104"))

    tab.open("/plans/WEB-15D")
    tab.page.click("form[action='/orders'] button[type=submit]")
    tab.page.wait_for_url("**/pay/sandbox/**")
    first_pay_page = tab.page.url
    tab.page.click("button[value=decline]")
    assert "已拒绝 Declined" in tab.page.inner_text("main")
    tab.page.click("a.back")
    tab.page.wait_for_selector("[data-state='payment_failed']", timeout=30_000)
    assert "The payment was declined. Nothing was charged." in tab.page.inner_text("#progress")
    tab.page.click("form[action$='/pay'] button[type=submit]")
    tab.page.wait_for_url("**/pay/sandbox/**")
    assert tab.page.url != first_pay_page
    tab.page.click("button[value=pay]")
    tab.page.click("a.back")
    tab.page.wait_for_selector("[data-state='completed']", timeout=45_000)
    assert tab.errors == []  # the sandbox page included


def test_five_wrong_codes_lock_with_a_clear_message(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session], worker: Worker
) -> None:
    _setup(committed, msisdn="+77017770105")
    tab = new_tab("zh-CN")
    tab.open("/")
    tab.page.fill("#card", "87017770105")
    tab.page.click("form[action='/code'] button[type=submit]")
    tab.page.wait_for_url("**/code")
    assert tab.page.is_disabled("form[action='/code/resend'] button")  # the cooldown runs

    for attempt in range(5):
        tab.page.fill("#code", "000000" if attempt % 2 else "999999")
        tab.page.click("form[action='/code/verify'] button[type=submit]")
        tab.page.wait_for_load_state()
    tab.page.fill("#code", "123456")
    tab.page.click("form[action='/code/verify'] button[type=submit]")

    assert "错误次数过多，请重新获取验证码。" in tab.page.inner_text("[role=alert]")
    assert "/card" not in tab.page.url


def test_another_cards_pages_are_not_found(
    new_tab: Callable[..., Tab], committed: sessionmaker[Session]
) -> None:
    from tulpar.auth import service as auth_service
    from tulpar.support import service as support_service

    with committed() as session:
        mine, _ = create_active_card(session, msisdn="+77017770106")
        theirs, _ = create_active_card(session, msisdn="+77017770107")
        ticket = support_service.ask(
            session, auth_service.traveller(theirs.id), message="secret", order_id=None
        )
        session.commit()
        tab = new_tab("zh-CN")
        sign_in(tab, session, mine)
        ticket_id = ticket.id

    for path in (f"/help/tickets/{ticket_id}", "/orders/987654", "/orders/987654/receipt.pdf"):
        answer = tab.open(path)
        assert answer.status == 404, path
        assert "secret" not in tab.page.inner_text("body")
